//! The handshake and transport states, free of I/O (the drivers in [`super::client`] and the
//! relayer move the bytes).
//!
//! Handshake payloads carry key bindings, nothing else. A party with a static key puts its
//! binding (JSON, see [`super::binding`]) in the payload of its first handshake message whose
//! payload is encrypted; every other handshake payload is empty, and a non-empty one is
//! refused:
//!
//! | pattern | message 1 (→) | message 2 (←) | message 3 (→) |
//! |---|---|---|---|
//! | `XX` | empty | relayer binding | client binding |
//! | `IK` | client binding | relayer binding | |
//! | `N`  | empty | | |
//! | `NN` | empty | empty | |
//!
//! The reader of a binding verifies its signature and that it names the static key the
//! handshake delivered; a client also checks its pin (X25519 key, and Ed25519 identity when
//! the pin came from a record). Requests travel only in transport messages, after the
//! handshake.

use super::binding::{DeviceIdentity, KeyBinding};
use super::record::RelayerPin;
use super::resolver::CheckedResolver;
use super::{NoiseError, Pattern, MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN, PROLOGUE, TAG_LEN};
use snow::params::NoiseParams;
use snow::{Builder, HandshakeState, TransportState};

/// What a client brings to a handshake.
#[derive(Clone, Copy, Debug)]
pub struct InitiatorOptions<'a> {
    /// The pattern.
    pub pattern: Pattern,
    /// The client's static key and binding (`XX`, `IK`; none for `N`, `NN`).
    pub identity: Option<&'a DeviceIdentity>,
    /// The relayer's pinned key (required for `IK` and `N`; checked in `XX` when given;
    /// refused for `NN`).
    pub relayer: Option<RelayerPin>,
}

/// Which side writes a binding in handshake message `index` (0-based): `Some(true)` the
/// initiator, `Some(false)` the responder, `None` nobody (the payload is empty).
fn binding_writer(pattern: Pattern, index: usize) -> Option<bool> {
    match (pattern, index) {
        (Pattern::Xx, 1) | (Pattern::Ik, 1) => Some(false),
        (Pattern::Xx, 2) | (Pattern::Ik, 0) => Some(true),
        _ => None,
    }
}

fn builder<'a>(pattern: Pattern) -> Result<Builder<'a>, NoiseError> {
    let params: NoiseParams = pattern.protocol_name().parse()?;
    Ok(Builder::with_resolver(params, Box::new(CheckedResolver::default())).prologue(PROLOGUE)?)
}

fn options_error(pattern: Pattern, problem: &'static str) -> NoiseError {
    NoiseError::Options {
        pattern: pattern.name(),
        problem,
    }
}

/// A handshake in progress.
pub struct Handshake {
    state: HandshakeState,
    pattern: Pattern,
    initiator: bool,
    index: usize,
    own_binding: Vec<u8>,
    pin: Option<RelayerPin>,
    peer: Option<KeyBinding>,
}

impl Handshake {
    /// The client side.
    pub fn initiator(opts: &InitiatorOptions<'_>) -> Result<Self, NoiseError> {
        let p = opts.pattern;
        match (p.initiator_has_static(), opts.identity) {
            (true, None) => return Err(options_error(p, "needs the client's key and binding")),
            (false, Some(_)) => return Err(options_error(p, "takes no client key")),
            _ => {}
        }
        if p.needs_responder_key() && opts.relayer.is_none() {
            return Err(options_error(p, "needs the relayer's key (pin it first)"));
        }
        if !p.responder_has_static() && opts.relayer.is_some() {
            return Err(options_error(p, "takes no relayer key"));
        }
        let mut b = builder(p)?;
        if let Some(id) = opts.identity {
            b = b.local_private_key(id.key.secret())?;
        }
        if p.needs_responder_key() {
            if let Some(pin) = opts.relayer.as_ref() {
                b = b.remote_public_key(&pin.x25519)?;
            }
        }
        Ok(Self {
            state: b.build_initiator()?,
            pattern: p,
            initiator: true,
            index: 0,
            own_binding: opts
                .identity
                .map(|i| i.binding.to_json_bytes())
                .unwrap_or_default(),
            pin: opts.relayer,
            peer: None,
        })
    }

    /// The relayer side; `identity` is required unless the pattern is `NN` (where it is
    /// ignored).
    pub fn responder(
        pattern: Pattern,
        identity: Option<&DeviceIdentity>,
    ) -> Result<Self, NoiseError> {
        let mut b = builder(pattern)?;
        let mut own_binding = Vec::new();
        if pattern.responder_has_static() {
            let id = identity.ok_or_else(|| options_error(pattern, "needs the relayer's key"))?;
            b = b.local_private_key(id.key.secret())?;
            own_binding = id.binding.to_json_bytes();
        }
        Ok(Self {
            state: b.build_responder()?,
            pattern,
            initiator: false,
            index: 0,
            own_binding,
            pin: None,
            peer: None,
        })
    }

    /// The pattern.
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// True once every handshake message was written or read.
    pub fn is_finished(&self) -> bool {
        self.state.is_handshake_finished()
    }

    /// True when the next handshake message is ours to write.
    pub fn is_my_turn(&self) -> bool {
        self.state.is_my_turn()
    }

    /// Writes the next handshake message (with our binding where the protocol puts it).
    pub fn write_message(&mut self) -> Result<Vec<u8>, NoiseError> {
        if self.is_finished() || !self.is_my_turn() {
            return Err(NoiseError::State("not our turn to write".into()));
        }
        let payload: &[u8] = if binding_writer(self.pattern, self.index) == Some(self.initiator) {
            &self.own_binding
        } else {
            &[]
        };
        let mut out = vec![0u8; MAX_MESSAGE_LEN];
        let n = self.state.write_message(payload, &mut out)?;
        out.truncate(n);
        self.index += 1;
        Ok(out)
    }

    /// Reads the peer's next handshake message and checks its payload (binding or empty).
    pub fn read_message(&mut self, message: &[u8]) -> Result<(), NoiseError> {
        if self.is_finished() || self.is_my_turn() {
            return Err(NoiseError::State("not our turn to read".into()));
        }
        let mut payload = vec![0u8; MAX_MESSAGE_LEN];
        let n = self.state.read_message(message, &mut payload)?;
        let payload = &payload[..n];
        let carries_binding = binding_writer(self.pattern, self.index) == Some(!self.initiator);
        self.index += 1;
        if !carries_binding {
            return if payload.is_empty() {
                Ok(())
            } else {
                Err(NoiseError::Payload("expected an empty payload"))
            };
        }
        if payload.is_empty() {
            return Err(NoiseError::Binding("the peer sent no binding for its key"));
        }
        let binding = KeyBinding::from_json_bytes(payload)?;
        binding.verify()?;
        let remote = self
            .state
            .get_remote_static()
            .ok_or_else(|| NoiseError::State("no remote static key".into()))?;
        if remote != binding.x25519.as_slice() {
            return Err(NoiseError::Binding(
                "it names another X25519 key than the handshake's",
            ));
        }
        if let Some(pin) = &self.pin {
            let identity_ok = pin.ed25519.is_none_or(|e| e == binding.ed25519);
            if pin.x25519 != binding.x25519 || !identity_ok {
                return Err(NoiseError::PinMismatch);
            }
        }
        self.peer = Some(binding);
        Ok(())
    }

    /// The transport session, once the handshake is finished.
    pub fn into_session(self) -> Result<Session, NoiseError> {
        if !self.is_finished() {
            return Err(NoiseError::State("handshake not finished".into()));
        }
        Ok(Session {
            transport: self.state.into_transport_mode()?,
            pattern: self.pattern,
            initiator: self.initiator,
            peer: self.peer,
        })
    }
}

/// An established Noise session: encrypts and decrypts transport messages.
pub struct Session {
    transport: TransportState,
    pattern: Pattern,
    initiator: bool,
    peer: Option<KeyBinding>,
}

impl Session {
    /// The pattern the session was made with.
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// True on the client side.
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// The peer's verified binding (`XX`, `IK`), if it has a static key.
    pub fn peer(&self) -> Option<&KeyBinding> {
        self.peer.as_ref()
    }

    /// False for the responder of a one-way pattern.
    pub fn can_send(&self) -> bool {
        self.initiator || !self.pattern.is_one_way()
    }

    /// False for the initiator of a one-way pattern.
    pub fn can_receive(&self) -> bool {
        !self.initiator || !self.pattern.is_one_way()
    }

    /// Encrypts one transport message (at most [`MAX_PLAINTEXT_LEN`] bytes of plaintext).
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        if !self.can_send() {
            return Err(NoiseError::OneWay);
        }
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(NoiseError::FrameTooLarge {
                len: plaintext.len() + TAG_LEN,
                max: MAX_MESSAGE_LEN,
            });
        }
        let mut out = vec![0u8; plaintext.len() + TAG_LEN];
        let n = self.transport.write_message(plaintext, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Decrypts one transport message.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, NoiseError> {
        if !self.can_receive() {
            return Err(NoiseError::OneWay);
        }
        let mut out = vec![0u8; message.len()];
        let n = self.transport.read_message(message, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}
