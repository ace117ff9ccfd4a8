//! The Noise endpoint under attack: tampered ciphertext, a wrong pinned key, a static key
//! without a valid binding, replayed sessions, oversized frames, slowloris handshakes, too
//! many sessions from one address. Each is refused with a clear error and stores nothing
//! (a replay is deduplicated and settles once).

use crate::harness::*;
use crate::noise::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::noise::framing::{encode_frame, read_frame};
use toss_sdk::noise::{
    Answer, DeviceIdentity, DeviceKey, Handshake, InitiatorOptions, NoiseClient, NoiseError,
    Pattern, RelayerPin, Session,
};

/// Waits until the relayer closes `tcp` (discarding what it sends); the time it took.
async fn closed_after(tcp: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let mut sink = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut sink)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the relayer did not close the connection"),
        }
    }
}

/// Runs a handshake by hand over `tcp`, returning the session and every byte written.
async fn manual(tcp: &mut TcpStream, opts: &InitiatorOptions<'_>) -> (Session, Vec<u8>) {
    let mut hs = Handshake::initiator(opts).unwrap();
    let hello = encode_frame(opts.pattern.protocol_name().as_bytes()).unwrap();
    tcp.write_all(&hello).await.unwrap();
    let mut sent = hello;
    while !hs.is_finished() {
        if hs.is_my_turn() {
            let frame = encode_frame(&hs.write_message().unwrap()).unwrap();
            tcp.write_all(&frame).await.unwrap();
            sent.extend(frame);
        } else {
            let m = read_frame(tcp, 65_535).await.unwrap().unwrap();
            hs.read_message(&m).unwrap();
        }
    }
    (hs.into_session().unwrap(), sent)
}

async fn connect(addr: &str) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_tampering_wrong_keys_and_bad_bindings_are_refused() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (_, pin) = fetch_pin(&h, &running).await;
    let (payer, pool) = h.payer(SOL, 1).await;
    let (_, signed) = h
        .sol_intent(&payer, &pool, 0, Keypair::new().pubkey(), SOL / 10)
        .await;
    let me = client_identity();

    // Tampered ciphertext: an encrypted 400 decrypt_failed, then the session is closed.
    let mut tcp = connect(&addr).await;
    let opts = options(Pattern::Ik, &me, pin);
    let (mut session, _) = manual(&mut tcp, &opts).await;
    let mut message = session
        .encrypt(body(&signed).to_string().as_bytes())
        .unwrap();
    message[5] ^= 0x01;
    tcp.write_all(&encode_frame(&message).unwrap())
        .await
        .unwrap();
    let reply = read_frame(&mut tcp, 65_535).await.unwrap().unwrap();
    let answer = Answer::parse(&session.decrypt(&reply).unwrap()).unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["code"], "decrypt_failed");
    closed_after(&mut tcp).await;

    // IK pinned to another relayer's key: the relayer cannot read message 1 and hangs up.
    let impostor = DeviceIdentity::derive(&Keypair::new(), "toss-relayer").unwrap();
    let wrong = RelayerPin {
        x25519: *impostor.key.public(),
        ed25519: None,
    };
    let err = NoiseClient::connect(&addr, &options(Pattern::Ik, &me, wrong), TIMEOUT)
        .await
        .err()
        .expect("handshake must fail");
    assert_eq!(err, NoiseError::Closed("during the handshake"), "{err}");
    // XX pinned to another key: the client refuses the relayer.
    let err = NoiseClient::connect(&addr, &options(Pattern::Xx, &me, wrong), TIMEOUT)
        .await
        .err()
        .expect("handshake must fail");
    assert_eq!(err, NoiseError::PinMismatch);

    // A client key without a valid binding (the binding of another key).
    let unbound = DeviceIdentity {
        key: DeviceKey::derive(&Keypair::new(), "pos").unwrap(),
        binding: me.binding.clone(),
    };
    for pattern in [Pattern::Ik, Pattern::Xx] {
        let mut client =
            match NoiseClient::connect(&addr, &options(pattern, &unbound, pin), TIMEOUT).await {
                Err(e) => {
                    assert_eq!(
                        e,
                        NoiseError::Closed("during the handshake"),
                        "{pattern}: {e}"
                    );
                    continue;
                }
                // XX: the client's binding is the last handshake message; the relayer refuses
                // it and closes before any request is read.
                Ok(c) => c,
            };
        assert!(client.request(&body(&signed)).await.is_err(), "{pattern}");
    }

    assert_eq!(running.total().await, 0, "nothing may be stored");
    // Sessions close on their own tasks: wait (bounded) until the last close is counted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let text = loop {
        let text = metrics(&h, &running).await;
        let closed = |reason: &str| {
            metric(
                &text,
                &format!("toss_noise_sessions_closed_total{{reason=\"{reason}\"}}"),
            )
        };
        let done = closed("decrypt_failed") >= 1.0
            && closed("handshake_failed") >= 1.0
            && closed("bad_binding") >= 2.0;
        if done || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        metric(
            &text,
            "toss_noise_sessions_closed_total{reason=\"decrypt_failed\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "toss_noise_sessions_closed_total{reason=\"handshake_failed\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "toss_noise_sessions_closed_total{reason=\"bad_binding\"}"
        ),
        2.0
    );
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_replayed_sessions_are_deduplicated_and_settle_once() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (_, pin) = fetch_pin(&h, &running).await;
    let (payer, pool) = h.payer(SOL, 2).await;
    let merchant = Keypair::new().pubkey();
    let (_, one_way) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let (_, two_way) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10).await;
    let me = client_identity();

    // N: the first message and the request, recorded, then replayed byte for byte on new
    // connections. The relayer can decrypt the replay (N has no responder contribution),
    // and intake deduplicates it.
    let mut tcp = connect(&addr).await;
    let (mut session, mut sent) = manual(&mut tcp, &options(Pattern::N, &me, pin)).await;
    let request = encode_frame(
        &session
            .encrypt(body(&one_way).to_string().as_bytes())
            .unwrap(),
    )
    .unwrap();
    tcp.write_all(&request).await.unwrap();
    sent.extend(request);
    tcp.shutdown().await.unwrap();
    closed_after(&mut tcp).await;
    assert_eq!(running.total().await, 1);
    let accepted = |t: &str| metric(t, "toss_intents_accepted_total");
    let before = accepted(&metrics(&h, &running).await);
    for _ in 0..2 {
        let mut replay = connect(&addr).await;
        replay.write_all(&sent).await.unwrap();
        replay.shutdown().await.unwrap();
        closed_after(&mut replay).await;
    }
    assert_eq!(running.total().await, 1);
    assert_eq!(accepted(&metrics(&h, &running).await), before);

    // IK: a replayed first message gets a fresh handshake answer the attacker cannot use;
    // the replayed request then fails to decrypt. Nothing new is stored.
    let mut tcp = connect(&addr).await;
    let (mut session, mut sent) = manual(&mut tcp, &options(Pattern::Ik, &me, pin)).await;
    let request = encode_frame(
        &session
            .encrypt(body(&two_way).to_string().as_bytes())
            .unwrap(),
    )
    .unwrap();
    tcp.write_all(&request).await.unwrap();
    sent.extend(request);
    let reply = read_frame(&mut tcp, 65_535).await.unwrap().unwrap();
    assert_eq!(
        Answer::parse(&session.decrypt(&reply).unwrap())
            .unwrap()
            .status,
        202
    );
    drop(tcp);
    let mut replay = connect(&addr).await;
    replay.write_all(&sent).await.unwrap();
    closed_after(&mut replay).await;
    assert_eq!(running.total().await, 2);

    running.settle_all().await;
    assert_eq!(running.status_of(&one_way).await, Status::Settled);
    assert_eq!(running.status_of(&two_way).await, Status::Settled);
    let text = metrics(&h, &running).await;
    assert_eq!(
        metric(&text, "toss_intents_final_total{status=\"settled\"}"),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            "toss_noise_sessions_closed_total{reason=\"decrypt_failed\"}"
        ),
        1.0
    );
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_limits_close_oversized_slow_and_excess_sessions() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (_, pin) = fetch_pin(&h, &running).await;
    let me = client_identity();
    let handshake = Duration::from_millis(HANDSHAKE_MS);

    // Oversized frame after the handshake: an encrypted 413, then closed.
    let mut tcp = connect(&addr).await;
    let (mut session, _) = manual(&mut tcp, &options(Pattern::Xx, &me, pin)).await;
    tcp.write_all(&[0xff, 0xff, 0, 0]).await.unwrap();
    let reply = read_frame(&mut tcp, 65_535).await.unwrap().unwrap();
    let answer = Answer::parse(&session.decrypt(&reply).unwrap()).unwrap();
    assert_eq!(answer.status, 413);
    assert_eq!(answer.body["error"]["code"], "frame_too_large");
    closed_after(&mut tcp).await;
    // The same with the whole oversized frame sent, and more behind it: the relayer leaves
    // the bytes it will not read unread, yet the 413 reaches the client (closed with a FIN
    // after draining, not reset with the answer still in flight).
    for _ in 0..5 {
        let mut tcp = connect(&addr).await;
        let (mut session, _) = manual(&mut tcp, &options(Pattern::Xx, &me, pin)).await;
        let mut flood = vec![0xff, 0xff];
        flood.resize(2 + 65_535 + 4_096, 0x42);
        tcp.write_all(&flood).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let reply = read_frame(&mut tcp, 65_535)
            .await
            .expect("the 413 arrives")
            .unwrap();
        let answer = Answer::parse(&session.decrypt(&reply).unwrap()).unwrap();
        assert_eq!(answer.status, 413);
        closed_after(&mut tcp).await;
    }
    // Oversized frame in the handshake: closed at once, long before the handshake timeout.
    let mut tcp = connect(&addr).await;
    tcp.write_all(&encode_frame(Pattern::Nn.protocol_name().as_bytes()).unwrap())
        .await
        .unwrap();
    tcp.write_all(&[0x20, 0x00]).await.unwrap();
    assert!(closed_after(&mut tcp).await < handshake);
    // A hello frame over its limit, and an unknown protocol.
    for hello in [
        vec![0x10, 0x00],
        encode_frame(b"Noise_KK_25519_ChaChaPoly_SHA256").unwrap(),
    ] {
        let mut tcp = connect(&addr).await;
        tcp.write_all(&hello).await.unwrap();
        assert!(closed_after(&mut tcp).await < handshake);
    }

    // Slowloris: silent, one byte, or half a handshake: closed after the handshake timeout.
    let half: Vec<u8> = {
        let mut v = encode_frame(Pattern::Nn.protocol_name().as_bytes()).unwrap();
        v.extend([0, 32, 1, 2, 3]);
        v
    };
    for prefix in [Vec::new(), vec![0u8], half] {
        let mut tcp = connect(&addr).await;
        tcp.write_all(&prefix).await.unwrap();
        let waited = closed_after(&mut tcp).await;
        assert!(
            waited >= handshake - Duration::from_millis(50),
            "{waited:?}"
        );
        assert!(waited < handshake * 5, "{waited:?}");
    }
    // Idle after the handshake: closed after the idle timeout.
    let mut tcp = connect(&addr).await;
    let _ = manual(&mut tcp, &options(Pattern::Nn, &me, pin)).await;
    let waited = closed_after(&mut tcp).await;
    assert!(waited >= Duration::from_millis(IDLE_MS - 50), "{waited:?}");

    let text = metrics(&h, &running).await;
    let closed = |reason: &str| {
        metric(
            &text,
            &format!("toss_noise_sessions_closed_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(closed("oversized_frame"), 8.0);
    assert_eq!(closed("unknown_protocol"), 1.0);
    assert_eq!(closed("handshake_timeout"), 3.0);
    assert_eq!(closed("idle_timeout"), 1.0);

    // Too many sessions from one address (limit 3): the fourth is closed at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&addr).await);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut extra = connect(&addr).await;
    assert!(closed_after(&mut extra).await < handshake);
    drop(held);
    // Once they are gone, sessions work again.
    let deadline = Instant::now() + Duration::from_secs(2);
    let answer = loop {
        let client = NoiseClient::connect(&addr, &options(Pattern::Nn, &me, pin), TIMEOUT).await;
        match client {
            Ok(mut c) => {
                break c
                    .request(&serde_json::json!({"intent": "***"}))
                    .await
                    .unwrap()
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(answer.body["error"]["code"], "bad_base64");

    assert_eq!(running.total().await, 0, "nothing may be stored");
    let text = metrics(&h, &running).await;
    // At least the fourth session; retries while the held ones were closing may add some.
    assert!(
        metric(
            &text,
            "toss_noise_sessions_closed_total{reason=\"too_many_sessions\"}"
        ) >= 1.0
    );
    running.relayer.shutdown().await.unwrap();
}

/// Opens two connections that are accepted (each lasts until its handshake deadline) and a
/// third that is closed at once.
async fn two_held_third_refused(addr: &str) {
    let handshake = Duration::from_millis(HANDSHAKE_MS);
    let since = Instant::now();
    let mut held = vec![connect(addr).await, connect(addr).await];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut extra = connect(addr).await;
    assert!(closed_after(&mut extra).await < handshake);
    for tcp in &mut held {
        closed_after(tcp).await;
        assert!(since.elapsed() >= handshake - Duration::from_millis(50));
    }
}

/// All clients together hold at most `[noise] max_sessions` sessions, whatever their
/// addresses; and each connection counts against its address's request rate, checked at
/// accept, before any handshake work (a replayed first message costs the client nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_total_sessions_and_connection_rate_are_bounded() {
    let h = Harness::new().await;
    let closed = |text: &str, reason: &str| {
        metric(
            text,
            &format!("toss_noise_sessions_closed_total{{reason=\"{reason}\"}}"),
        )
    };
    // Total: 2 sessions (the per-IP limit, 16, is not what refuses the third).
    let mut cfg = noise_config();
    cfg.noise.max_sessions_per_ip = 16;
    cfg.noise.max_sessions = 2;
    let running = h.start(cfg).await;
    two_held_third_refused(&noise_addr(&running)).await;
    let text = metrics(&h, &running).await;
    assert_eq!(closed(&text, "too_many_sessions"), 1.0);
    assert_eq!(closed(&text, "handshake_timeout"), 2.0);
    running.relayer.shutdown().await.unwrap();

    // Rate: a burst of 2 requests per address, then 1 a second.
    let mut cfg = noise_config();
    cfg.server.rate_limit_per_ip_per_s = 1;
    cfg.server.rate_limit_per_ip_burst = 2;
    let running = h.start(cfg).await;
    two_held_third_refused(&noise_addr(&running)).await;
    let text = metrics(&h, &running).await;
    assert_eq!(closed(&text, "rate_limited"), 1.0);
    assert_eq!(closed(&text, "handshake_timeout"), 2.0);
    running.relayer.shutdown().await.unwrap();
}
