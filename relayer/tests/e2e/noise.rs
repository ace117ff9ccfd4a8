//! The Noise endpoint end to end: the SDK client against the running relayer, every pattern,
//! intents that settle, the same answers as HTTP, the published key record.

use crate::harness::*;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::Duration;
use toss_relayer::config::Config;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::noise::{
    Answer, DeviceIdentity, InitiatorOptions, NoiseClient, NoiseKeyRecord, Pattern, RelayerPin,
};
use toss_sdk::SignedIntent;

pub const HANDSHAKE_MS: u64 = 300;
pub const IDLE_MS: u64 = 1_000;
pub const MAX_MESSAGE: usize = 4_096;
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The e2e config with the Noise endpoint on an ephemeral port and short limits.
pub fn noise_config() -> Config {
    let mut c = config();
    c.noise.enabled = true;
    c.noise.listen = "127.0.0.1:0".into();
    c.noise.handshake_timeout_ms = HANDSHAKE_MS;
    c.noise.idle_timeout_ms = IDLE_MS;
    c.noise.max_message_bytes = MAX_MESSAGE;
    c.noise.max_sessions_per_ip = 3;
    c
}

pub fn noise_addr(running: &Running) -> String {
    running
        .relayer
        .noise_addr
        .expect("noise enabled")
        .to_string()
}

/// The relayer's key record from `GET /v1/noise/key`, verified, as a pin.
pub async fn fetch_pin(h: &Harness, running: &Running) -> (NoiseKeyRecord, RelayerPin) {
    let r = h
        .http
        .get(format!("{}/v1/noise/key", running.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let record: NoiseKeyRecord = serde_json::from_str(&text).unwrap();
    (record, RelayerPin::parse(&text).unwrap())
}

pub fn client_identity() -> DeviceIdentity {
    DeviceIdentity::derive(&Keypair::new(), "merchant-pos-1").unwrap()
}

pub fn options<'a>(
    pattern: Pattern,
    identity: &'a DeviceIdentity,
    pin: RelayerPin,
) -> InitiatorOptions<'a> {
    InitiatorOptions {
        pattern,
        identity: pattern.initiator_has_static().then_some(identity),
        relayer: pattern.responder_has_static().then_some(pin),
    }
}

pub fn body(signed: &SignedIntent) -> Value {
    json!({"intent": signed.to_base64()})
}

/// One request over a fresh session; `None` for the one-way pattern (after the relayer
/// closed, i.e. handled it).
pub async fn noise_submit(addr: &str, opts: &InitiatorOptions<'_>, body: &Value) -> Option<Answer> {
    let mut client = NoiseClient::connect(addr, opts, TIMEOUT).await.unwrap();
    if opts.pattern.is_one_way() {
        client.send_one_way(body).await.unwrap();
        client.finish().await.unwrap();
        return None;
    }
    let answer = client.request(body).await.unwrap();
    client.finish().await.unwrap();
    Some(answer)
}

pub async fn metrics(h: &Harness, running: &Running) -> String {
    let r = h
        .http
        .get(format!("{}/metrics", running.url))
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
}

/// The value of a metric line (`name{labels}`, without the relayer's constant `instance`
/// label), 0 when absent.
pub fn metric(text: &str, line: &str) -> f64 {
    text.lines()
        .map(without_instance)
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// `name{a="b",instance="x"} 1` → `name{a="b"} 1`; `name{instance="x"} 1` → `name 1`.
fn without_instance(line: &str) -> String {
    let Some(start) = line.find("instance=\"") else {
        return line.to_owned();
    };
    let rest = &line[start + "instance=\"".len()..];
    let Some(end) = rest.find('"') else {
        return line.to_owned();
    };
    let before = &line[..start];
    let after = &rest[end + 1..];
    // Labels are sorted: `instance` may come first, last or in between.
    let (before, after) = match after.strip_prefix(',') {
        Some(after) => (before, after),
        None => (before.strip_suffix(',').unwrap_or(before), after),
    };
    format!("{before}{after}").replace("{}", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_every_pattern_handshakes_and_its_intent_settles() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (record, pin) = fetch_pin(&h, &running).await;
    // The record is the fee payer's: pinnable by the relayer's on-chain address.
    assert_eq!(record.ed25519, h.fee_payer.pubkey().to_string());
    assert_eq!(record.device_id, "toss-relayer");
    assert_eq!(record.protocols.len(), 4);
    assert_eq!(pin.ed25519, Some(h.fee_payer.pubkey().to_bytes()));

    let (payer, pool) = h.payer(2 * SOL, 4).await;
    let merchant = Keypair::new().pubkey();
    let me = client_identity();
    let mut submitted = Vec::new();
    for (i, pattern) in Pattern::ALL.into_iter().enumerate() {
        let (_, signed) = h
            .sol_intent(&payer, &pool, i as u32, merchant, SOL / 10)
            .await;
        let opts = options(pattern, &me, pin);
        let answer = noise_submit(&addr, &opts, &body(&signed)).await;
        if let Some(a) = answer {
            assert_eq!(a.status, 202, "{pattern}: {}", a.body);
            assert_eq!(a.body["id"], hex::encode(signed.id()));
            assert_eq!(a.body["status"], "pending");
        }
        let record = running
            .store
            .get(signed.id())
            .await
            .unwrap()
            .expect("stored");
        let source = format!("noise-{} 127.0.0.1", pattern.cli_name());
        assert!(record.source.starts_with(&source), "{}", record.source);
        if pattern.initiator_has_static() {
            let client = bs58::encode(me.binding.ed25519).into_string();
            assert!(record.source.ends_with(&format!("client={client}")));
        }
        submitted.push((pattern, signed));
    }
    running.settle_all().await;
    for (pattern, signed) in &submitted {
        assert_eq!(
            running.status_of(signed).await,
            Status::Settled,
            "{pattern}"
        );
    }
    let text = metrics(&h, &running).await;
    for pattern in Pattern::ALL {
        let line = format!(
            "toss_noise_handshakes_total{{outcome=\"ok\",pattern=\"{}\"}}",
            pattern.name()
        );
        assert_eq!(metric(&text, &line), 1.0, "{line}\n{text}");
    }
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_answers_like_http_idempotent_bulk_and_refusals() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (_, pin) = fetch_pin(&h, &running).await;
    let (payer, pool) = h.payer(SOL, 3).await;
    let merchant = Keypair::new().pubkey();
    let me = client_identity();
    let (_, first) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let (_, second) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10).await;

    let mut client = NoiseClient::connect(&addr, &options(Pattern::Ik, &me, pin), TIMEOUT)
        .await
        .unwrap();
    let a = client.request(&body(&first)).await.unwrap();
    assert_eq!(a.status, 202);
    // The same intent again, on the same session and over HTTP: 200 with its record.
    let again = client.request(&body(&first)).await.unwrap();
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], a.body["id"]);
    let (http_status, http_body) = running.submit(&h.http, &first).await;
    assert_eq!(http_status.as_u16(), 200);
    assert_eq!(http_body, again.body);
    // Bulk: the same shape as HTTP.
    let bulk = client
        .request(&json!([body(&first), body(&second)]))
        .await
        .unwrap();
    assert_eq!(bulk.status, 200);
    assert_eq!(bulk.body["results"][0]["created"], false);
    assert_eq!(bulk.body["results"][1]["created"], true);
    // Refusals: the HTTP codes and statuses, nothing stored.
    let before = running.total().await;
    let mut expired = first.intent().unwrap();
    expired.nonce_account = pool.nonce(2).unwrap().0;
    expired.nonce_value = pool.nonce(2).unwrap().1;
    expired.expiry = h.now().await - 10;
    let expired = SignedIntent::sign(&payer, &expired).unwrap();
    // A bad signature on an intent the relayer does not know yet (ids hash the intent only,
    // so a forged copy of a stored one would be answered from the store).
    let mut fresh = expired.intent().unwrap();
    fresh.expiry = h.now().await + 600;
    let mut forged = SignedIntent::sign(&payer, &fresh).unwrap();
    forged.signature[3] ^= 1;
    for (request, status, code) in [
        (json!({"intnt": "x"}), 400, "malformed_json"),
        (json!({"intent": "***"}), 400, "bad_base64"),
        (json!([]), 400, "malformed_json"),
        (body(&expired), 422, "expired"),
        (json!({"intent": forged.to_base64()}), 422, "bad_signature"),
    ] {
        let a = client.request(&request).await.unwrap();
        assert_eq!(a.status, status, "{code}: {}", a.body);
        assert_eq!(a.body["error"]["code"], code);
        // HTTP gives the same status and code (messages may name the current time).
        let (hs, hb) = running.post(&h.http, &request).await;
        assert_eq!(hs.as_u16(), status, "{code}: {hb}");
        assert_eq!(hb["error"]["code"], a.body["error"]["code"]);
    }
    // Not JSON at all.
    let a = client.request(&json!("not an object")).await.unwrap();
    assert_eq!(a.body["error"]["code"], "malformed_json");
    assert_eq!(running.total().await, before);
    client.finish().await.unwrap();

    // A session that is open when the relayer stops is closed, not waited on.
    let mut open = NoiseClient::connect(&addr, &options(Pattern::Xx, &me, pin), TIMEOUT)
        .await
        .unwrap();
    running.relayer.shutdown().await.unwrap();
    assert!(open.request(&body(&second)).await.is_err());
}
