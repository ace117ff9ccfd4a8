//! Arithmetic in GF(p), p = 2^255 − 19: the field Arcium runs Rescue over (the X25519 shared
//! secret is already an element of it).
//!
//! Representation: five unsigned 64-bit limbs in radix 2^51 (value = Σ lᵢ·2^(51·i)). Limbs are
//! kept *weakly* reduced (each below 2^52); only [`Fe::to_bytes`] produces the canonical value.
//!
//! Constant time: every operation on a field element is straight-line code over its limbs (fixed
//! loop counts, no branch or table index that depends on a limb value), so keys, keystream and
//! plaintexts never steer control flow. The only branches are on *public* data: the bits of a
//! fixed exponent in [`Fe::pow`] (exponents are scheme constants such as α and α⁻¹), and the
//! `Option` returned by [`Fe::from_canonical_bytes`], whose input (a ciphertext) is public.
//! Equality ([`Fe::ct_eq`]) compares canonical encodings with `subtle`.

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

const MASK: u64 = (1 << 51) - 1;

/// An element of GF(2^255 − 19).
#[derive(Clone, Copy, Default)]
pub struct Fe([u64; 5]);

impl Fe {
    /// 0.
    pub const ZERO: Fe = Fe([0; 5]);
    /// 1.
    pub const ONE: Fe = Fe([1, 0, 0, 0, 0]);

    /// The element `v`.
    pub const fn from_u64(v: u64) -> Fe {
        Fe([v & MASK, v >> 51, 0, 0, 0])
    }

    /// The element `v` (every `u128` is below p, so this is exact).
    pub const fn from_u128(v: u128) -> Fe {
        Fe([
            (v as u64) & MASK,
            ((v >> 51) as u64) & MASK,
            (v >> 102) as u64,
            0,
            0,
        ])
    }

    /// The low 255 bits of `bytes` (little-endian) as an element; bit 255 is ignored and values
    /// in `[p, 2^255)` wrap. Use [`Fe::from_canonical_bytes`] for input that must be canonical.
    pub fn from_bytes_mod_p(bytes: &[u8; 32]) -> Fe {
        let w = |i: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            u64::from_le_bytes(word)
        };
        let (w0, w1, w2, w3) = (w(0), w(1), w(2), w(3));
        Fe([
            w0 & MASK,
            ((w0 >> 51) | (w1 << 13)) & MASK,
            ((w1 >> 38) | (w2 << 26)) & MASK,
            ((w2 >> 25) | (w3 << 39)) & MASK,
            (w3 >> 12) & MASK,
        ])
    }

    /// The element whose canonical little-endian encoding is `bytes`, or `None` when the value
    /// is `p` or more (including bit 255 set). The comparison itself is constant time.
    pub fn from_canonical_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let fe = Fe::from_bytes_mod_p(bytes);
        bool::from(fe.to_bytes().ct_eq(bytes)).then_some(fe)
    }

    /// A 48-byte little-endian integer reduced mod p: how Rescue's parameter generation turns
    /// SHAKE256 output into field elements (16 spare bytes make the result close to uniform).
    pub fn from_wide_bytes(bytes: &[u8; 48]) -> Fe {
        let mut low = [0u8; 32];
        low.copy_from_slice(&bytes[..32]);
        let bit_255 = u64::from(low[31] >> 7);
        let mut high = [0u8; 16];
        high.copy_from_slice(&bytes[32..]);
        // value = low₂₅₅ + 2^255·b + 2^256·high ≡ low₂₅₅ + 19·b + 38·high (mod p).
        Fe::from_bytes_mod_p(&low)
            + Fe::from_u64(19 * bit_255)
            + Fe::from_u128(u128::from_le_bytes(high)) * Fe::from_u64(38)
    }

    /// The canonical 32-byte little-endian encoding (value fully reduced below p).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut l = weak_reduce(self.0);
        // q = 1 exactly when value ≥ p, i.e. value + 19 ≥ 2^255 (value < 2p here).
        let mut q = (l[0] + 19) >> 51;
        for limb in &l[1..] {
            q = (limb + q) >> 51;
        }
        l[0] += 19 * q;
        for i in 0..4 {
            l[i + 1] += l[i] >> 51;
            l[i] &= MASK;
        }
        // Dropping the carry out of the top limb subtracts 2^255 (together: value − q·p).
        l[4] &= MASK;
        let mut out = [0u8; 32];
        let mut acc: u128 = 0;
        let mut bits = 0;
        let mut i = 0;
        for limb in l {
            acc |= u128::from(limb) << bits;
            bits += 51;
            while bits >= 8 {
                out[i] = acc as u8;
                acc >>= 8;
                bits -= 8;
                i += 1;
            }
        }
        out[31] = acc as u8;
        out
    }

    /// The value as a `u64`, if it is one (`None` for values of 2^64 or more).
    pub fn to_u64(&self) -> Option<u64> {
        let b = self.to_bytes();
        if b[8..].iter().any(|&x| x != 0) {
            return None;
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[..8]);
        Some(u64::from_le_bytes(w))
    }

    /// The value as a `u128`, if it is one (`None` for values of 2^128 or more).
    pub fn to_u128(&self) -> Option<u128> {
        let b = self.to_bytes();
        if b[16..].iter().any(|&x| x != 0) {
            return None;
        }
        let mut w = [0u8; 16];
        w.copy_from_slice(&b[..16]);
        Some(u128::from_le_bytes(w))
    }

    /// `self²` (15 limb products instead of 25).
    pub fn square(&self) -> Fe {
        let m = |x: u64, y: u64| u128::from(x) * u128::from(y);
        let a = self.0;
        let (a3_19, a4_19) = (a[3] * 19, a[4] * 19);
        let d = [a[0] * 2, a[1] * 2, a[2] * 2, a[3] * 2];
        carry_wide([
            m(a[0], a[0]) + m(d[1], a4_19) + m(d[2], a3_19),
            m(d[0], a[1]) + m(d[2], a4_19) + m(a[3], a3_19),
            m(d[0], a[2]) + m(a[1], a[1]) + m(d[3], a4_19),
            m(d[0], a[3]) + m(d[1], a[2]) + m(a[4], a4_19),
            m(d[0], a[4]) + m(d[1], a[3]) + m(a[2], a[2]),
        ])
    }

    /// `self^e` for a **public** exponent `e` (256-bit, little-endian words): fixed 4-bit
    /// windows from the exponent's highest non-zero nibble down, multiplying by a table entry
    /// for every window (also for zero nibbles). Which entry, and where to start, depend on the
    /// exponent only, never on `self`.
    pub fn pow(&self, e: &[u64; 4]) -> Fe {
        let mut table = [Fe::ONE; 16];
        for i in 1..16 {
            table[i] = table[i - 1] * *self;
        }
        let nibble = |i: usize| ((e[i / 16] >> (4 * (i % 16))) & 0xf) as usize;
        let Some(top) = (0..64).rev().find(|&i| nibble(i) != 0) else {
            return Fe::ONE;
        };
        let mut acc = table[nibble(top)];
        for i in (0..top).rev() {
            acc = acc.square().square().square().square() * table[nibble(i)];
        }
        table.zeroize();
        acc
    }

    /// `self⁻¹` (Fermat: `self^(p−2)`); 0 maps to 0. Used on public parameters only.
    pub fn invert(&self) -> Fe {
        const P_MINUS_2: [u64; 4] = [
            0xffff_ffff_ffff_ffeb,
            u64::MAX,
            u64::MAX,
            0x7fff_ffff_ffff_ffff,
        ];
        self.pow(&P_MINUS_2)
    }

    /// Constant-time equality of the values.
    pub fn ct_eq(&self, other: &Fe) -> Choice {
        self.to_bytes().ct_eq(&other.to_bytes())
    }

    /// Whether the value is 0 (constant time).
    pub fn is_zero(&self) -> Choice {
        self.ct_eq(&Fe::ZERO)
    }
}

/// Carries every limb into the next (the top one into limb 0 times 19, as 2^255 ≡ 19), leaving
/// limbs below 2^51 + 2^18 for any input limbs below 2^64.
fn weak_reduce(l: [u64; 5]) -> [u64; 5] {
    let c = [l[0] >> 51, l[1] >> 51, l[2] >> 51, l[3] >> 51, l[4] >> 51];
    [
        (l[0] & MASK) + c[4] * 19,
        (l[1] & MASK) + c[0],
        (l[2] & MASK) + c[1],
        (l[3] & MASK) + c[2],
        (l[4] & MASK) + c[3],
    ]
}

/// Carries the 128-bit column sums of a product back to limbs. Inputs below 2^52 keep every
/// column below 2^113; the carries stay in 128 bits throughout.
fn carry_wide(c: [u128; 5]) -> Fe {
    let mask = u128::from(MASK);
    let c1 = c[1] + (c[0] >> 51);
    let c2 = c[2] + (c1 >> 51);
    let c3 = c[3] + (c2 >> 51);
    let c4 = c[4] + (c3 >> 51);
    let l0 = (c[0] & mask) + (c4 >> 51) * 19;
    let l1 = (c1 & mask) + (l0 >> 51);
    Fe([
        (l0 & mask) as u64,
        l1 as u64,
        (c2 & mask) as u64,
        (c3 & mask) as u64,
        (c4 & mask) as u64,
    ])
}

impl core::ops::Add for Fe {
    type Output = Fe;
    fn add(self, rhs: Fe) -> Fe {
        let (a, b) = (self.0, rhs.0);
        Fe(weak_reduce([
            a[0] + b[0],
            a[1] + b[1],
            a[2] + b[2],
            a[3] + b[3],
            a[4] + b[4],
        ]))
    }
}

impl core::ops::Sub for Fe {
    type Output = Fe;
    fn sub(self, rhs: Fe) -> Fe {
        // Adds 16·p first so no limb underflows (rhs limbs are below 2^52 < 16·(2^51 − 19)).
        const P16_0: u64 = 16 * ((1 << 51) - 19);
        const P16_N: u64 = 16 * ((1 << 51) - 1);
        let (a, b) = (self.0, rhs.0);
        Fe(weak_reduce([
            a[0] + P16_0 - b[0],
            a[1] + P16_N - b[1],
            a[2] + P16_N - b[2],
            a[3] + P16_N - b[3],
            a[4] + P16_N - b[4],
        ]))
    }
}

impl core::ops::Neg for Fe {
    type Output = Fe;
    fn neg(self) -> Fe {
        Fe::ZERO - self
    }
}

impl core::ops::Mul for Fe {
    type Output = Fe;
    fn mul(self, rhs: Fe) -> Fe {
        let m = |x: u64, y: u64| u128::from(x) * u128::from(y);
        let (a, b) = (self.0, rhs.0);
        // Limbs above index 4 wrap around times 19 (2^255 ≡ 19).
        let b19 = [0, b[1] * 19, b[2] * 19, b[3] * 19, b[4] * 19];
        carry_wide([
            m(a[0], b[0]) + m(a[4], b19[1]) + m(a[3], b19[2]) + m(a[2], b19[3]) + m(a[1], b19[4]),
            m(a[1], b[0]) + m(a[0], b[1]) + m(a[4], b19[2]) + m(a[3], b19[3]) + m(a[2], b19[4]),
            m(a[2], b[0]) + m(a[1], b[1]) + m(a[0], b[2]) + m(a[4], b19[3]) + m(a[3], b19[4]),
            m(a[3], b[0]) + m(a[2], b[1]) + m(a[1], b[2]) + m(a[0], b[3]) + m(a[4], b19[4]),
            m(a[4], b[0]) + m(a[3], b[1]) + m(a[2], b[2]) + m(a[1], b[3]) + m(a[0], b[4]),
        ])
    }
}

impl core::ops::AddAssign for Fe {
    fn add_assign(&mut self, rhs: Fe) {
        *self = *self + rhs;
    }
}

impl PartialEq for Fe {
    fn eq(&self, other: &Fe) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Fe {}

impl core::fmt::Debug for Fe {
    /// Hex of the canonical encoding. Types that hold secret elements (keys, round keys) do not
    /// derive `Debug` from this.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fe({})", hex::encode(self.to_bytes()))
    }
}

impl Zeroize for Fe {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p_minus(k: u8) -> [u8; 32] {
        let mut b = [0xff; 32];
        b[0] = 0xed - k;
        b[31] = 0x7f;
        b
    }

    #[test]
    fn canonical_bytes_reject_p_and_above() {
        assert!(Fe::from_canonical_bytes(&p_minus(1)).is_some());
        assert!(Fe::from_canonical_bytes(&p_minus(0)).is_none(), "p");
        assert!(Fe::from_canonical_bytes(&[0xff; 32]).is_none(), "2^256 - 1");
        let mut top = [0u8; 32];
        top[31] = 0x80;
        assert!(Fe::from_canonical_bytes(&top).is_none(), "bit 255");
        let pm1 = Fe::from_canonical_bytes(&p_minus(1)).unwrap_or(Fe::ZERO);
        assert_eq!(pm1 + Fe::ONE, Fe::ZERO);
        assert_eq!(-Fe::ONE, pm1);
    }

    #[test]
    fn wide_reduction_and_inverse() {
        // 2^256 ≡ 38.
        let mut wide = [0u8; 48];
        wide[32] = 1;
        assert_eq!(Fe::from_wide_bytes(&wide), Fe::from_u64(38));
        let x = Fe::from_u128(0x1234_5678_9abc_def0_0fed_cba9_8765_4321);
        assert_eq!(x * x.invert(), Fe::ONE);
        assert_eq!(Fe::from_u64(u64::MAX).to_u64(), Some(u64::MAX));
        assert_eq!(Fe::from_u128(u128::MAX).to_u128(), Some(u128::MAX));
        assert_eq!((Fe::from_u128(u128::MAX) + Fe::ONE).to_u128(), None);
    }
}
