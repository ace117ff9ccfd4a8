//! Handshakes for every pattern, pins, bindings on the wire, all-zero DH, framing, streams.

use super::super::framing::{encode_frame, read_frame};
use super::super::stream::{initiate, read_hello, recv, respond, send};
use super::super::*;
use super::{identity, pair, pin_of, run};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};

#[test]
fn every_pattern_handshakes_and_carries_messages() {
    let client = identity(1, "phone");
    let relayer = identity(2, "toss-relayer");
    for p in Pattern::ALL {
        let (mut c, mut r) = pair(p, &client, &relayer);
        let m = c.encrypt(b"{\"intent\":\"x\"}").unwrap();
        assert_eq!(r.decrypt(&m).unwrap(), b"{\"intent\":\"x\"}");
        if p.is_one_way() {
            assert_eq!(r.encrypt(b"no"), Err(NoiseError::OneWay));
            assert!(!c.can_receive());
        } else {
            let back = r.encrypt(b"{\"status\":202}").unwrap();
            assert_eq!(c.decrypt(&back).unwrap(), b"{\"status\":202}");
        }
        // Each side learns the other's binding exactly where the pattern has a static key.
        assert_eq!(
            c.peer().map(|b| b.ed25519),
            matches!(p, Pattern::Xx | Pattern::Ik).then_some(relayer.binding.ed25519)
        );
        assert_eq!(
            r.peer().map(|b| b.ed25519),
            p.initiator_has_static().then_some(client.binding.ed25519)
        );
    }
}

#[test]
fn tampered_transport_messages_fail_to_decrypt() {
    let (mut c, mut r) = pair(Pattern::Ik, &identity(1, "a"), &identity(2, "b"));
    let mut m = c.encrypt(b"hello").unwrap();
    m[2] ^= 1;
    assert_eq!(r.decrypt(&m), Err(NoiseError::Decrypt));
    assert_eq!(r.decrypt(&[1, 2, 3]), Err(NoiseError::Decrypt));
}

#[test]
fn a_wrong_pin_fails_the_handshake() {
    let client = identity(1, "phone");
    let relayer = identity(2, "toss-relayer");
    let other = identity(9, "toss-relayer");
    // IK toward another key: the relayer cannot decrypt the first message.
    let opts = InitiatorOptions {
        pattern: Pattern::Ik,
        identity: Some(&client),
        relayer: Some(pin_of(&other)),
    };
    let mut i = Handshake::initiator(&opts).unwrap();
    let mut r = Handshake::responder(Pattern::Ik, Some(&relayer)).unwrap();
    assert_eq!(run(&mut i, &mut r), Err(NoiseError::Decrypt));
    // XX with a pin: the client refuses a relayer presenting another key.
    let opts = InitiatorOptions {
        pattern: Pattern::Xx,
        identity: Some(&client),
        relayer: Some(pin_of(&other)),
    };
    let mut i = Handshake::initiator(&opts).unwrap();
    let mut r = Handshake::responder(Pattern::Xx, Some(&relayer)).unwrap();
    assert_eq!(run(&mut i, &mut r), Err(NoiseError::PinMismatch));
    // Same X25519 key pinned but another Ed25519 identity: refused too.
    let mut pin = pin_of(&relayer);
    pin.ed25519 = Some(other.binding.ed25519);
    let opts = InitiatorOptions {
        pattern: Pattern::Xx,
        identity: Some(&client),
        relayer: Some(pin),
    };
    let mut i = Handshake::initiator(&opts).unwrap();
    let mut r = Handshake::responder(Pattern::Xx, Some(&relayer)).unwrap();
    assert_eq!(run(&mut i, &mut r), Err(NoiseError::PinMismatch));
}

#[test]
fn a_static_key_without_a_valid_binding_is_refused() {
    let relayer = identity(2, "toss-relayer");
    let honest = identity(1, "phone");
    // Key of one device, binding of another: the binding names another X25519 key.
    let mismatched = DeviceIdentity {
        key: DeviceKey::from_seed(&[1; 32], "laptop").unwrap(),
        binding: honest.binding.clone(),
    };
    let mut forged_sig = identity(1, "phone");
    forged_sig.binding.signature[0] ^= 1;
    for (pattern, client, want) in [
        (
            Pattern::Xx,
            &mismatched,
            "it names another X25519 key than the handshake's",
        ),
        (
            Pattern::Ik,
            &mismatched,
            "it names another X25519 key than the handshake's",
        ),
        (Pattern::Xx, &forged_sig, "the signature does not verify"),
        (Pattern::Ik, &forged_sig, "the signature does not verify"),
    ] {
        let opts = InitiatorOptions {
            pattern,
            identity: Some(client),
            relayer: Some(pin_of(&relayer)),
        };
        let mut i = Handshake::initiator(&opts).unwrap();
        let mut r = Handshake::responder(pattern, Some(&relayer)).unwrap();
        assert_eq!(
            run(&mut i, &mut r),
            Err(NoiseError::Binding(want)),
            "{pattern}"
        );
    }
}

#[test]
fn options_that_do_not_fit_the_pattern_are_refused() {
    let client = identity(1, "phone");
    let relayer = identity(2, "toss-relayer");
    let bad = [
        (Pattern::Ik, None, Some(pin_of(&relayer))),
        (Pattern::Ik, Some(&client), None),
        (Pattern::N, None, None),
        (Pattern::N, Some(&client), Some(pin_of(&relayer))),
        (Pattern::Nn, None, Some(pin_of(&relayer))),
        (Pattern::Xx, None, None),
    ];
    for (pattern, identity, relayer) in bad {
        let opts = InitiatorOptions {
            pattern,
            identity,
            relayer,
        };
        assert!(
            matches!(Handshake::initiator(&opts), Err(NoiseError::Options { .. })),
            "{pattern}"
        );
    }
    assert!(Handshake::responder(Pattern::Xx, None).is_err());
    assert!(Handshake::responder(Pattern::Nn, None).is_ok());
}

/// A test-only DH whose public key is a fixed (low-order) point and whose shared secret is
/// what X25519 gives for it: all zeros. It lets an "attacker" complete a handshake that an
/// unchecked responder accepts.
struct LowOrderDh([u8; 32]);

impl Dh for LowOrderDh {
    fn name(&self) -> &'static str {
        "25519"
    }
    fn pub_len(&self) -> usize {
        32
    }
    fn priv_len(&self) -> usize {
        32
    }
    fn set(&mut self, _: &[u8]) {}
    fn generate(&mut self, _: &mut dyn Random) -> Result<(), snow::Error> {
        Ok(())
    }
    fn pubkey(&self) -> &[u8] {
        &self.0
    }
    fn privkey(&self) -> &[u8] {
        &[0; 32]
    }
    fn dh(&self, _: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        out[..32].fill(0);
        Ok(())
    }
}

struct LowOrderResolver([u8; 32]);

impl CryptoResolver for LowOrderResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        DefaultResolver.resolve_rng()
    }
    fn resolve_dh(&self, _: &DHChoice) -> Option<Box<dyn Dh>> {
        Some(Box::new(LowOrderDh(self.0)))
    }
    fn resolve_hash(&self, c: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(c)
    }
    fn resolve_cipher(&self, c: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(c)
    }
}

/// Low-order points of Curve25519 (u-coordinates): 0, 1, and the two of order 8.
const LOW_ORDER: [&str; 4] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
];

#[test]
fn all_zero_dh_from_a_low_order_point_is_refused() {
    let relayer = identity(2, "toss-relayer");
    for point in LOW_ORDER {
        let point: [u8; 32] = hex::decode(point).unwrap().try_into().unwrap();
        // x25519-dalek agrees that these points give an all-zero secret.
        let shared = x25519_dalek::StaticSecret::from(*relayer.key.secret())
            .diffie_hellman(&x25519_dalek::PublicKey::from(point));
        assert!(!shared.was_contributory());
        let attack = || {
            snow::Builder::with_resolver(
                Pattern::N.protocol_name().parse().unwrap(),
                Box::new(LowOrderResolver(point)),
            )
            .prologue(PROLOGUE)
            .unwrap()
            .remote_public_key(relayer.key.public())
            .unwrap()
            .build_initiator()
            .unwrap()
        };
        let mut msg = vec![0u8; 1024];
        let n = attack().write_message(&[], &mut msg).unwrap();
        msg.truncate(n);
        assert_eq!(&msg[..32], &point);
        // snow's own resolver accepts it: the session key is then known to the attacker.
        let mut unchecked = snow::Builder::new(Pattern::N.protocol_name().parse().unwrap())
            .prologue(PROLOGUE)
            .unwrap()
            .local_private_key(relayer.key.secret())
            .unwrap()
            .build_responder()
            .unwrap();
        let mut out = vec![0u8; 1024];
        assert!(unchecked.read_message(&msg, &mut out).is_ok());
        // Ours refuses it.
        let mut checked = Handshake::responder(Pattern::N, Some(&relayer)).unwrap();
        assert_eq!(checked.read_message(&msg), Err(NoiseError::ZeroDh));
    }
    // The initiator side too: a responder's low-order ephemeral in NN.
    let mut client = Handshake::initiator(&InitiatorOptions {
        pattern: Pattern::Nn,
        identity: None,
        relayer: None,
    })
    .unwrap();
    let m1 = client.write_message().unwrap();
    let mut evil = snow::Builder::with_resolver(
        Pattern::Nn.protocol_name().parse().unwrap(),
        Box::new(LowOrderResolver([0; 32])),
    )
    .prologue(PROLOGUE)
    .unwrap()
    .build_responder()
    .unwrap();
    let mut out = vec![0u8; 1024];
    evil.read_message(&m1, &mut out).unwrap();
    let n = evil.write_message(&[], &mut out).unwrap();
    assert_eq!(client.read_message(&out[..n]), Err(NoiseError::ZeroDh));
}

#[test]
fn frames_are_length_prefixed_and_bounded() {
    assert_eq!(encode_frame(b"abc").unwrap(), [0, 3, b'a', b'b', b'c']);
    assert!(encode_frame(&vec![0; 65_536]).is_err());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut ok: &[u8] = &[0, 2, 9, 9, 0, 1];
        assert_eq!(read_frame(&mut ok, 10).await.unwrap(), Some(vec![9, 9]));
        assert_eq!(
            read_frame(&mut ok, 10).await,
            Err(NoiseError::Closed("in the middle of a frame"))
        );
        let mut empty: &[u8] = &[];
        assert_eq!(read_frame(&mut empty, 10).await.unwrap(), None);
        let mut big: &[u8] = &[0xff, 0xff];
        assert_eq!(
            read_frame(&mut big, 100).await,
            Err(NoiseError::FrameTooLarge {
                len: 65_535,
                max: 100
            })
        );
    });
}

#[tokio::test]
async fn handshakes_over_a_stream_with_the_hello_frame() {
    let client = identity(1, "phone");
    let relayer = identity(2, "toss-relayer");
    for p in Pattern::ALL {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        let opts = InitiatorOptions {
            pattern: p,
            identity: p.initiator_has_static().then_some(&client),
            relayer: p.responder_has_static().then(|| pin_of(&relayer)),
        };
        let server = async {
            let pattern = read_hello(&mut b).await?;
            let mut s = respond(&mut b, pattern, &relayer, MAX_MESSAGE_LEN).await?;
            let got = recv(&mut b, &mut s, MAX_MESSAGE_LEN).await?;
            if s.can_send() {
                send(&mut b, &mut s, b"pong").await?;
            }
            Ok::<_, NoiseError>((pattern, got))
        };
        let client_side = async {
            let mut s = initiate(&mut a, &opts).await?;
            send(&mut a, &mut s, b"ping").await?;
            if s.can_receive() {
                return recv(&mut a, &mut s, MAX_MESSAGE_LEN).await;
            }
            Ok(None)
        };
        let (server, client_got) = tokio::join!(server, client_side);
        let (pattern, got) = server.unwrap();
        assert_eq!(pattern, p);
        assert_eq!(got.as_deref(), Some(&b"ping"[..]));
        assert_eq!(
            client_got.unwrap().as_deref(),
            (!p.is_one_way()).then_some(&b"pong"[..])
        );
    }
    // An unknown protocol name in the hello frame.
    let mut hello: &[u8] = &[0, 5, b'N', b'o', b'i', b's', b'e'];
    assert_eq!(
        read_hello(&mut hello).await,
        Err(NoiseError::UnknownProtocol)
    );
}

/// Answers are matched to requests by order: a request whose answer comes too late leaves the
/// client unusable, so the late answer is never read as the next request's. A malformed but
/// whole answer leaves it in step.
#[tokio::test]
async fn a_timed_out_request_leaves_the_client_unusable() {
    use std::time::Duration;
    let relayer = identity(2, "toss-relayer");
    let (a, mut b) = tokio::io::duplex(1 << 16);
    let opts = InitiatorOptions {
        pattern: Pattern::Nn,
        identity: None,
        relayer: None,
    };
    let server = async {
        let pattern = read_hello(&mut b).await?;
        let mut s = respond(&mut b, pattern, &relayer, MAX_MESSAGE_LEN).await?;
        // First request: a whole frame that is not an answer.
        recv(&mut b, &mut s, MAX_MESSAGE_LEN).await?;
        send(&mut b, &mut s, b"not json").await?;
        // Second request: answered after the client's deadline.
        let second = recv(&mut b, &mut s, MAX_MESSAGE_LEN).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&mut b, &mut s, br#"{"status": 202, "body": {"n": 2}}"#).await?;
        // Whatever comes next is read, so the client's third call is not refused by a
        // closed pipe but by the client itself.
        let third = recv(&mut b, &mut s, MAX_MESSAGE_LEN).await.ok().flatten();
        Ok::<_, NoiseError>((second, third))
    };
    let client_side = async {
        let mut c = NoiseClient::handshake(a, &opts, Duration::from_millis(100)).await?;
        let malformed = c.request(&serde_json::json!({"n": 1})).await;
        assert!(
            matches!(malformed, Err(NoiseError::Answer(_))),
            "{malformed:?}"
        );
        assert!(c.is_usable(), "a whole frame keeps the session in step");
        let late = c.request(&serde_json::json!({"n": 2})).await;
        assert_eq!(
            late,
            Err(NoiseError::Timeout("waiting for the relayer's answer"))
        );
        assert!(!c.is_usable());
        // The late answer has arrived by now; it must not answer request 3.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let third = c.request(&serde_json::json!({"n": 3})).await;
        let one_way = c.send_one_way(&serde_json::json!({"n": 4})).await;
        drop(c);
        Ok::<_, NoiseError>((third, one_way))
    };
    let (server, client) = tokio::join!(server, client_side);
    let (third, one_way) = client.unwrap();
    assert!(matches!(third, Err(NoiseError::Unusable(_))), "{third:?}");
    assert!(
        matches!(one_way, Err(NoiseError::Unusable(_))),
        "{one_way:?}"
    );
    let (second, after) = server.unwrap();
    assert_eq!(second.as_deref(), Some(&br#"{"n":2}"#[..]));
    assert_eq!(
        after, None,
        "nothing was sent once the session was unusable"
    );
}

/// A request abandoned by its caller (its future dropped while waiting for the answer, as an
/// outer timeout or `select!` does) leaves the client unusable as well.
#[tokio::test]
async fn an_abandoned_request_leaves_the_client_unusable() {
    use std::time::Duration;
    let relayer = identity(2, "toss-relayer");
    let (a, mut b) = tokio::io::duplex(1 << 16);
    let opts = InitiatorOptions {
        pattern: Pattern::Nn,
        identity: None,
        relayer: None,
    };
    let server = async {
        let pattern = read_hello(&mut b).await?;
        let mut s = respond(&mut b, pattern, &relayer, MAX_MESSAGE_LEN).await?;
        recv(&mut b, &mut s, MAX_MESSAGE_LEN).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        send(&mut b, &mut s, br#"{"status": 202, "body": {"n": 1}}"#).await?;
        Ok::<_, NoiseError>(b)
    };
    let client_side = async {
        let mut c = NoiseClient::handshake(a, &opts, Duration::from_secs(5)).await?;
        let abandoned = tokio::time::timeout(
            Duration::from_millis(50),
            c.request(&serde_json::json!({"n": 1})),
        )
        .await;
        assert!(abandoned.is_err(), "the caller gave up first");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!c.is_usable());
        Ok::<_, NoiseError>(c.request(&serde_json::json!({"n": 2})).await)
    };
    let (server, client) = tokio::join!(server, client_side);
    server.unwrap();
    let next = client.unwrap();
    assert!(matches!(next, Err(NoiseError::Unusable(_))), "{next:?}");
}
