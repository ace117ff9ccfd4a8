//! Rescue's public parameters, derived the way the scheme specifies them rather than pasted:
//!
//! - **S-box exponent α**: the smallest prime that does not divide p − 1 (5 for this field), and
//!   **α⁻¹** its inverse mod p − 1, so `x ↦ x^α` is a permutation with inverse `x ↦ x^(α⁻¹)`.
//! - **Rounds**: the block cipher's count from the Rescue paper's bounds at 128-bit security
//!   (`2·max(⌈2s/((m+1)(log₂p − log₂(α−1)))⌉, ⌈(s+3)/(5.5m)⌉, 5)`: 10 for m = 5); the hash's
//!   from the Gröbner-basis bound of Rescue-Prime at 256-bit security plus 50 % (8 for m = 12,
//!   capacity 5), computed with exact integers.
//! - **MDS matrix**: the Cauchy matrix `M[i][j] = 1/(xᵢ − yⱼ)` with `xᵢ = i`, `yⱼ = −j`
//!   (1-based), as Arcium uses instead of the paper's Vandermonde construction.
//! - **Round constants**: SHAKE256 output read as 48-byte little-endian integers mod p. The block
//!   cipher seeds it with `"encrypt everything, compute anything"` and draws an invertible m×m
//!   matrix A (row-major, redrawn while singular), a start vector c₀ and an affine term b, then
//!   `cᵣ₊₁ = A·cᵣ + b`; the hash seeds it with `"Rescue-XLIX(p,m,capacity,256)"` (p in decimal)
//!   and draws 2·m·rounds elements, preceded by a zero vector.
//!
//! All of this is public and computed once ([`cipher_params`], [`hash_params`]); variable-time
//! code is fine here. The derivation follows Arcium's published description of its scheme and
//! is cross-checked by the committed test vectors (`sdk/tests/vectors/arcium_rescue.json`).

use super::field::Fe;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use std::sync::OnceLock;

/// State width of the block cipher (and the Rescue key length).
pub const CIPHER_WIDTH: usize = 5;
/// State width of the Rescue-Prime hash.
pub const HASH_WIDTH: usize = 12;
/// Capacity of the Rescue-Prime sponge.
pub const HASH_CAPACITY: usize = 5;
/// Rate of the Rescue-Prime sponge (field elements absorbed per permutation).
pub const HASH_RATE: usize = HASH_WIDTH - HASH_CAPACITY;

const CIPHER_SECURITY_BITS: u64 = 128;
const HASH_SECURITY_BITS: u64 = 256;
const CIPHER_SEED: &[u8] = b"encrypt everything, compute anything";

/// p = 2^255 − 19 as little-endian 64-bit words.
const P: [u64; 4] = [
    0xffff_ffff_ffff_ffed,
    u64::MAX,
    u64::MAX,
    0x7fff_ffff_ffff_ffff,
];

/// The parameters of one Rescue instance of width `M`.
pub struct Params<const M: usize> {
    /// S-box exponent α.
    pub alpha: u64,
    /// α⁻¹ mod p − 1 (little-endian words).
    pub alpha_inv: [u64; 4],
    /// Number of rounds (each is two half-rounds).
    pub rounds: usize,
    /// The MDS matrix, row-major.
    pub mds: [[Fe; M]; M],
    /// Round constants: `2·rounds + 1` vectors (the first is added before round 1).
    pub constants: Vec<[Fe; M]>,
}

/// The block cipher's parameters (width 5), derived on first use.
pub fn cipher_params() -> &'static Params<CIPHER_WIDTH> {
    static PARAMS: OnceLock<Params<CIPHER_WIDTH>> = OnceLock::new();
    PARAMS.get_or_init(derive_cipher)
}

/// The hash's parameters (width 12, capacity 5), derived on first use.
pub fn hash_params() -> &'static Params<HASH_WIDTH> {
    static PARAMS: OnceLock<Params<HASH_WIDTH>> = OnceLock::new();
    PARAMS.get_or_init(derive_hash)
}

/// A small unsigned big integer (little-endian words) for the public parameter arithmetic.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Big(Vec<u64>);

impl Big {
    fn from_words(words: &[u64]) -> Big {
        let mut b = Big(words.to_vec());
        b.trim();
        b
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn mul_small(&self, k: u64) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = 0u128;
        for &w in &self.0 {
            let v = u128::from(w) * u128::from(k) + carry;
            out.push(v as u64);
            carry = v >> 64;
        }
        out.push(carry as u64);
        Big::from_words(&out)
    }
    fn add_small(&self, k: u64) -> Big {
        let mut out = self.0.clone();
        out.push(0);
        let mut carry = k;
        for w in out.iter_mut() {
            let (v, overflow) = w.overflowing_add(carry);
            *w = v;
            carry = u64::from(overflow);
        }
        Big::from_words(&out)
    }
    fn sub_small(&self, k: u64) -> Big {
        let mut out = self.0.clone();
        let mut borrow = k;
        for w in out.iter_mut() {
            let (v, under) = w.overflowing_sub(borrow);
            *w = v;
            borrow = u64::from(under);
        }
        Big::from_words(&out)
    }
    /// (quotient, remainder) of division by `k > 0`.
    fn div_small(&self, k: u64) -> (Big, u64) {
        let mut out = vec![0u64; self.0.len()];
        let mut rem = 0u128;
        for i in (0..self.0.len()).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            out[i] = (cur / u128::from(k)) as u64;
            rem = cur % u128::from(k);
        }
        (Big::from_words(&out), rem as u64)
    }
    fn cmp_value(&self, other: &Big) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
    fn decimal(&self) -> String {
        let mut digits = Vec::new();
        let mut n = self.clone();
        while !n.0.is_empty() {
            let (q, r) = n.div_small(10);
            digits.push(b'0' + r as u8);
            n = q;
        }
        if digits.is_empty() {
            digits.push(b'0');
        }
        digits.reverse();
        String::from_utf8_lossy(&digits).into_owned()
    }
    fn binomial(n: u64, k: u64) -> Big {
        // C(n, k) = Π_{i=1..k} (n − k + i) / i, exact at every step.
        (1..=k).fold(Big::from_words(&[1]), |acc, i| {
            acc.mul_small(n - k + i).div_small(i).0
        })
    }
}

fn p() -> Big {
    Big::from_words(&P)
}

/// The smallest prime α with gcd(α, p − 1) = 1.
fn alpha() -> u64 {
    let p_minus_1 = p().sub_small(1);
    [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
        .into_iter()
        .find(|&a| p_minus_1.div_small(a).1 != 0)
        .unwrap_or(0)
}

/// α⁻¹ mod p − 1: the `e = (k(p − 1) + 1)/α` with `0 < k < α` that is an integer.
fn alpha_inverse(alpha: u64) -> [u64; 4] {
    let p_minus_1 = p().sub_small(1);
    let mut out = [0u64; 4];
    for k in 1..alpha {
        let (e, rem) = p_minus_1.mul_small(k).add_small(1).div_small(alpha);
        if rem == 0 {
            for (o, w) in out.iter_mut().zip(e.0) {
                *o = w;
            }
            break;
        }
    }
    out
}

fn cipher_rounds(alpha: u64, m: usize) -> usize {
    let s = CIPHER_SECURITY_BITS as f64;
    let m_f = m as f64;
    let log2_p = 255.0_f64; // log₂(2^255 − 19) in f64
    let l0 = (2.0 * s / ((m_f + 1.0) * (log2_p - ((alpha - 1) as f64).log2()))).ceil() as usize;
    let l1 = if alpha == 3 {
        ((s + 2.0) / (4.0 * m_f)).ceil() as usize
    } else {
        ((s + 3.0) / (5.5 * m_f)).ceil() as usize
    };
    2 * l0.max(l1).max(5)
}

fn hash_rounds(alpha: u64, m: usize, capacity: usize) -> usize {
    let (m, rate) = (m as u64, (m - capacity) as u64);
    let dcon = |n: u64| ((alpha - 1) * m * (n - 1)) / 2 + 2;
    let v = |n: u64| m * (n - 1) + rate;
    // Smallest l with C(v + dcon, v)² > 2^security (i.e. C > 2^(security/2)), at most 24.
    let bound = Big::from_words(&[0, 0, 1]); // 2^128 = 2^(HASH_SECURITY_BITS / 2)
    debug_assert_eq!(HASH_SECURITY_BITS, 256);
    let mut l = 1u64;
    while Big::binomial(v(l) + dcon(l), v(l)).cmp_value(&bound) != std::cmp::Ordering::Greater
        && l <= 23
    {
        l += 1;
    }
    (1.5 * l.max(5) as f64).ceil() as usize
}

fn cauchy_mds<const M: usize>() -> [[Fe; M]; M] {
    let mut mds = [[Fe::ZERO; M]; M];
    for (i, row) in mds.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            // xᵢ − yⱼ = (i + 1) + (j + 1)
            *cell = Fe::from_u64((i + j + 2) as u64).invert();
        }
    }
    mds
}

struct Shake(sha3::Shake256Reader);

impl Shake {
    fn new(seed: &[u8]) -> Shake {
        let mut hasher = sha3::Shake256::default();
        hasher.update(seed);
        Shake(hasher.finalize_xof())
    }
    fn element(&mut self) -> Fe {
        let mut buf = [0u8; 48];
        self.0.read(&mut buf);
        Fe::from_wide_bytes(&buf)
    }
    fn vector<const M: usize>(&mut self) -> [Fe; M] {
        std::array::from_fn(|_| self.element())
    }
}

/// Determinant by Gaussian elimination (public matrices only).
fn determinant<const M: usize>(mut a: [[Fe; M]; M]) -> Fe {
    let mut det = Fe::ONE;
    for col in 0..M {
        let Some(pivot) = (col..M).find(|&r| !bool::from(a[r][col].is_zero())) else {
            return Fe::ZERO;
        };
        if pivot != col {
            a.swap(pivot, col);
            det = -det;
        }
        det = det * a[col][col];
        let inv = a[col][col].invert();
        let pivot_row = a[col];
        for row in a.iter_mut().skip(col + 1) {
            let factor = row[col] * inv;
            for (cell, &p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *cell = *cell - factor * p;
            }
        }
    }
    det
}

fn mat_vec<const M: usize>(a: &[[Fe; M]; M], v: &[Fe; M]) -> [Fe; M] {
    std::array::from_fn(|i| {
        a[i].iter()
            .zip(v)
            .fold(Fe::ZERO, |acc, (&x, &y)| acc + x * y)
    })
}

fn derive_cipher() -> Params<CIPHER_WIDTH> {
    const M: usize = CIPHER_WIDTH;
    let alpha = alpha();
    let rounds = cipher_rounds(alpha, M);
    let mut shake = Shake::new(CIPHER_SEED);
    let mut matrix: [[Fe; M]; M] = std::array::from_fn(|_| shake.vector());
    let start: [Fe; M] = shake.vector();
    let affine: [Fe; M] = shake.vector();
    while bool::from(determinant(matrix).is_zero()) {
        matrix = std::array::from_fn(|_| shake.vector());
    }
    let mut constants = vec![start];
    for _ in 0..2 * rounds {
        let last = constants[constants.len() - 1];
        let next = mat_vec(&matrix, &last);
        constants.push(std::array::from_fn(|i| next[i] + affine[i]));
    }
    Params {
        alpha,
        alpha_inv: alpha_inverse(alpha),
        rounds,
        mds: cauchy_mds(),
        constants,
    }
}

fn derive_hash() -> Params<HASH_WIDTH> {
    const M: usize = HASH_WIDTH;
    let alpha = alpha();
    let rounds = hash_rounds(alpha, M, HASH_CAPACITY);
    let seed = format!(
        "Rescue-XLIX({},{},{},{})",
        p().decimal(),
        M,
        HASH_CAPACITY,
        HASH_SECURITY_BITS
    );
    let mut shake = Shake::new(seed.as_bytes());
    let mut constants = vec![[Fe::ZERO; M]];
    constants.extend((0..2 * rounds).map(|_| shake.vector::<M>()));
    Params {
        alpha,
        alpha_inv: alpha_inverse(alpha),
        rounds,
        mds: cauchy_mds(),
        constants,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_parameters_have_the_published_shape() {
        let c = cipher_params();
        assert_eq!((c.alpha, c.rounds, c.constants.len()), (5, 10, 21));
        let h = hash_params();
        assert_eq!((h.alpha, h.rounds, h.constants.len()), (5, 8, 17));
        assert!(p()
            .decimal()
            .starts_with("578960446186580977117854925043439539266"));
        // α·α⁻¹ ≡ 1 (mod p − 1), so x^(α·α⁻¹) = x.
        let x = Fe::from_u128(0xdead_beef_0123_4567_89ab_cdef_f00d_cafe);
        assert_eq!(x.pow(&[c.alpha, 0, 0, 0]).pow(&c.alpha_inv), x);
        assert!(!bool::from(determinant(c.mds).is_zero()));
    }
}
