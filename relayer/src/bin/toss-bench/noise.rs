//! `toss-bench noise`: Noise handshake time per pattern (in memory, without I/O, and over
//! loopback TCP with the hello frame and framing, as the relayer's endpoint runs it) and
//! transport encrypt/decrypt throughput, with the SDK's `25519_ChaChaPoly_SHA256` sessions.

use serde_json::{json, Map, Value};
use solana_keypair::Keypair;
use std::time::Instant;
use tokio::net::{TcpListener, TcpStream};
use toss_sdk::noise::stream::{initiate, read_hello, respond};
use toss_sdk::noise::{
    DeviceIdentity, Handshake, InitiatorOptions, NoiseError, Pattern, RelayerPin, Session,
    MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN,
};

/// In-memory handshakes per pattern.
const HANDSHAKES: u32 = 2_000;
/// Loopback handshakes per pattern.
const LOOPBACK_HANDSHAKES: u32 = 300;
/// Bytes pushed through each direction of the throughput test.
const THROUGHPUT_BYTES: usize = 64 << 20;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn options<'a>(p: Pattern, client: &'a DeviceIdentity, pin: RelayerPin) -> InitiatorOptions<'a> {
    InitiatorOptions {
        pattern: p,
        identity: p.initiator_has_static().then_some(client),
        relayer: p.responder_has_static().then_some(pin),
    }
}

/// One handshake in memory; both sessions.
fn handshake(
    opts: &InitiatorOptions<'_>,
    relayer: &DeviceIdentity,
) -> Result<(Session, Session), NoiseError> {
    let mut i = Handshake::initiator(opts)?;
    let mut r = Handshake::responder(opts.pattern, Some(relayer))?;
    while !(i.is_finished() && r.is_finished()) {
        if !i.is_finished() && i.is_my_turn() {
            r.read_message(&i.write_message()?)?;
        } else {
            i.read_message(&r.write_message()?)?;
        }
    }
    Ok((i.into_session()?, r.into_session()?))
}

/// Mean microseconds per in-memory handshake of `pattern`.
fn in_memory_us(opts: &InitiatorOptions<'_>, relayer: &DeviceIdentity) -> Result<f64, String> {
    let start = Instant::now();
    for _ in 0..HANDSHAKES {
        handshake(opts, relayer).map_err(err)?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(HANDSHAKES))
}

/// Mean microseconds per loopback handshake (connect, hello, handshake) of `pattern`.
async fn loopback_us(
    opts: &InitiatorOptions<'_>,
    relayer: &std::sync::Arc<DeviceIdentity>,
) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let id = relayer.clone();
    let server = tokio::spawn(async move {
        for _ in 0..LOOPBACK_HANDSHAKES {
            let (mut tcp, _) = listener.accept().await.map_err(err)?;
            tcp.set_nodelay(true).map_err(err)?;
            let pattern = read_hello(&mut tcp).await.map_err(err)?;
            respond(&mut tcp, pattern, &id, MAX_MESSAGE_LEN)
                .await
                .map_err(err)?;
        }
        Ok::<(), String>(())
    });
    let start = Instant::now();
    for _ in 0..LOOPBACK_HANDSHAKES {
        let mut tcp = TcpStream::connect(addr).await.map_err(err)?;
        tcp.set_nodelay(true).map_err(err)?;
        initiate(&mut tcp, opts).await.map_err(err)?;
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(LOOPBACK_HANDSHAKES);
    server.await.map_err(err)??;
    Ok(us)
}

/// Encrypt and decrypt MB/s with messages of `size` plaintext bytes.
fn throughput(
    client: &mut Session,
    relayer: &mut Session,
    size: usize,
) -> Result<(f64, f64), String> {
    let plaintext = vec![0x5a_u8; size];
    let n = (THROUGHPUT_BYTES / size).max(1);
    let start = Instant::now();
    let mut messages = Vec::with_capacity(n);
    for _ in 0..n {
        messages.push(client.encrypt(&plaintext).map_err(err)?);
    }
    let enc = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for m in &messages {
        relayer.decrypt(m).map_err(err)?;
    }
    let dec = start.elapsed().as_secs_f64();
    let mb = (n * size) as f64 / 1e6;
    Ok((mb / enc, mb / dec))
}

/// The figures.
pub async fn run() -> Result<Value, String> {
    let client = DeviceIdentity::derive(&Keypair::new(), "bench-client").map_err(err)?;
    let relayer =
        std::sync::Arc::new(DeviceIdentity::derive(&Keypair::new(), "toss-relayer").map_err(err)?);
    let pin = RelayerPin {
        x25519: *relayer.key.public(),
        ed25519: Some(relayer.binding.ed25519),
    };
    let mut out = Map::new();
    for p in Pattern::ALL {
        let opts = options(p, &client, pin);
        let name = p.cli_name();
        out.insert(
            format!("handshake_us_{name}"),
            json!(in_memory_us(&opts, &relayer)?),
        );
        out.insert(
            format!("handshake_loopback_us_{name}"),
            json!(loopback_us(&opts, &relayer).await?),
        );
    }
    let (mut c, mut r) = handshake(&options(Pattern::Ik, &client, pin), &relayer).map_err(err)?;
    let (enc, dec) = throughput(&mut c, &mut r, MAX_PLAINTEXT_LEN)?;
    out.insert("encrypt_mb_s".into(), json!(enc));
    out.insert("decrypt_mb_s".into(), json!(dec));
    let (enc, dec) = throughput(&mut c, &mut r, 512)?;
    out.insert("encrypt_mb_s_512b".into(), json!(enc));
    out.insert("decrypt_mb_s_512b".into(), json!(dec));
    out.insert("suite".into(), json!(toss_sdk::noise::SUITE));
    Ok(Value::Object(out))
}
