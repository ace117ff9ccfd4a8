//! Encrypted channels between devices and the relayer: the Noise Protocol Framework (`snow`)
//! with device keys derived from the Ed25519 root and bound to it by a signature.
//!
//! - [`keys`]: the device's static X25519 key, derived from the Ed25519 root seed with
//!   HKDF-SHA512 and a device id.
//! - [`binding`]: the Ed25519 signature that ties an X25519 key and device id to a root
//!   identity, and its verification.
//! - [`record`]: the signed key record a relayer publishes (`GET /v1/noise/key`) and the pin a
//!   client gives on the command line.
//! - [`select`]: which pattern to use (the Paykit guide's flowchart).
//! - [`handshake`]: the handshake and transport state machines, free of I/O.
//! - [`framing`]: the standard 2-byte big-endian length prefix on a byte stream.
//! - [`stream`]: the hello frame, handshakes and transport messages over a byte stream.
//! - [`client`]: a client that connects, handshakes and submits intents to a relayer.
//!
//! One suite, [`SUITE`] = `25519_ChaChaPoly_SHA256`: SHA-256 rather than BLAKE2s because every
//! Noise library and platform ships it (Go `flynn/noise`, Python `noiseprotocol` and
//! `dissononce`, the JavaScript libp2p implementation, WebCrypto), it is the suite libp2p
//! standardised on, and this crate already depends on `sha2`. BLAKE2s would gain nothing a
//! client could measure here and lose the libraries without it. The wire protocol (hello
//! frame, prologue, payloads, message format) is specified in `docs/noise.md`.

pub mod binding;
pub mod client;
mod error;
pub mod framing;
pub mod handshake;
pub mod keys;
pub mod record;
mod resolver;
pub mod select;
pub mod stream;

pub use binding::{verify_binding, DeviceIdentity, KeyBinding};
pub use client::{Answer, NoiseClient};
pub use error::NoiseError;
pub use handshake::{Handshake, InitiatorOptions, Session};
pub use keys::{derive_x25519_secret, DeviceKey};
pub use record::{NoiseKeyRecord, RelayerPin};
pub use resolver::CheckedResolver;
pub use select::{select_pattern, Situation};

use std::fmt;
use std::str::FromStr;

/// The one cipher suite: Curve25519, ChaCha20-Poly1305, SHA-256.
pub const SUITE: &str = "25519_ChaChaPoly_SHA256";
/// The prologue both sides mix into the handshake hash (a version bump changes it).
pub const PROLOGUE: &[u8] = b"toss-noise-v1";
/// Largest Noise message (the Noise specification's limit, and what a 2-byte prefix holds).
pub const MAX_MESSAGE_LEN: usize = 65_535;
/// Bytes the AEAD tag adds to every transport message.
pub const TAG_LEN: usize = 16;
/// Largest plaintext in one transport message.
pub const MAX_PLAINTEXT_LEN: usize = MAX_MESSAGE_LEN - TAG_LEN;

/// A Noise handshake pattern this protocol speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `XX`: first contact; both static keys travel encrypted in the handshake.
    Xx,
    /// `IK`: the client knows (pins) the relayer's static key; 1-RTT, both authenticated.
    Ik,
    /// `N`: anonymous one-way submission to a known relayer key; the relayer never answers.
    N,
    /// `NN`: ephemeral keys only; no identities, no authentication.
    Nn,
}

impl Pattern {
    /// Every pattern, in the order the docs list them.
    pub const ALL: [Pattern; 4] = [Pattern::Ik, Pattern::Xx, Pattern::N, Pattern::Nn];

    /// The pattern's name in the Noise specification (`"XX"`).
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Xx => "XX",
            Pattern::Ik => "IK",
            Pattern::N => "N",
            Pattern::Nn => "NN",
        }
    }

    /// The full protocol name (`"Noise_XX_25519_ChaChaPoly_SHA256"`), also sent in the hello
    /// frame.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Pattern::Xx => "Noise_XX_25519_ChaChaPoly_SHA256",
            Pattern::Ik => "Noise_IK_25519_ChaChaPoly_SHA256",
            Pattern::N => "Noise_N_25519_ChaChaPoly_SHA256",
            Pattern::Nn => "Noise_NN_25519_ChaChaPoly_SHA256",
        }
    }

    /// The pattern named by a full protocol name, if it is one of ours.
    pub fn from_protocol_name(name: &[u8]) -> Option<Pattern> {
        Pattern::ALL
            .into_iter()
            .find(|p| p.protocol_name().as_bytes() == name)
    }

    /// True when the initiator (client) has a static key (`XX`, `IK`).
    pub fn initiator_has_static(self) -> bool {
        matches!(self, Pattern::Xx | Pattern::Ik)
    }

    /// True when the responder (relayer) has a static key (`XX`, `IK`, `N`).
    pub fn responder_has_static(self) -> bool {
        !matches!(self, Pattern::Nn)
    }

    /// True when the initiator must know the responder's static key beforehand (`IK`, `N`).
    pub fn needs_responder_key(self) -> bool {
        matches!(self, Pattern::Ik | Pattern::N)
    }

    /// True for one-way patterns (`N`): only the initiator sends transport messages.
    pub fn is_one_way(self) -> bool {
        matches!(self, Pattern::N)
    }

    /// Handshake messages in the pattern.
    pub fn handshake_messages(self) -> usize {
        match self {
            Pattern::Xx => 3,
            Pattern::Ik | Pattern::Nn => 2,
            Pattern::N => 1,
        }
    }

    /// The lowercase name the CLI takes (`"xx"`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Pattern::Xx => "xx",
            Pattern::Ik => "ik",
            Pattern::N => "n",
            Pattern::Nn => "nn",
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Pattern {
    type Err = NoiseError;

    /// `ik`, `xx`, `n`, `nn` (any case), or a full protocol name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Pattern::ALL
            .into_iter()
            .find(|p| t.eq_ignore_ascii_case(p.name()) || t == p.protocol_name())
            .ok_or_else(|| NoiseError::Pattern(t.to_owned()))
    }
}

#[cfg(test)]
mod tests;
