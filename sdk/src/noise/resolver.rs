//! A `snow` crypto resolver that refuses all-zero Diffie-Hellman results.
//!
//! snow 0.10's default X25519 (`curve25519-dalek`'s `mul_clamped`) returns whatever the
//! multiplication gives: a low-order public key (e.g. `0`, `1`, or one of the order-8 points)
//! makes the shared secret all zeros, a value an attacker knows, and snow goes on (tested in
//! `noise::tests`). The Noise specification allows refusing such keys, and X25519 users
//! should (RFC 7748 §6.1). This resolver wraps every DH of the default resolver and fails the
//! handshake (`snow::Error::Dh`, surfaced as [`super::NoiseError::ZeroDh`]) when the output
//! is all zeros. Hash, cipher and RNG are the default resolver's.

use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use zeroize::Zeroize;

/// snow's default resolver with the all-zero DH check.
#[derive(Default)]
pub struct CheckedResolver {
    inner: DefaultResolver,
}

impl CryptoResolver for CheckedResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        self.inner.resolve_rng()
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        self.inner
            .resolve_dh(choice)
            .map(|dh| Box::new(NonZeroDh(dh)) as Box<dyn Dh>)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        self.inner.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        self.inner.resolve_cipher(choice)
    }
}

/// A DH that fails instead of returning an all-zero shared secret.
struct NonZeroDh(Box<dyn Dh>);

impl Dh for NonZeroDh {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn pub_len(&self) -> usize {
        self.0.pub_len()
    }

    fn priv_len(&self) -> usize {
        self.0.priv_len()
    }

    fn set(&mut self, privkey: &[u8]) {
        self.0.set(privkey);
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        self.0.generate(rng)
    }

    fn pubkey(&self) -> &[u8] {
        self.0.pubkey()
    }

    fn privkey(&self) -> &[u8] {
        self.0.privkey()
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        self.0.dh(pubkey, out)?;
        let len = self.0.dh_len().min(out.len());
        // OR of every byte: no early exit on the secret's contents.
        let any = out[..len].iter().fold(0u8, |acc, b| acc | b);
        if any == 0 {
            out.zeroize();
            return Err(snow::Error::Dh);
        }
        Ok(())
    }

    fn dh_len(&self) -> usize {
        self.0.dh_len()
    }
}
