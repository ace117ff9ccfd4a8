//! `toss submit INTENT --noise HOST:PORT [--pattern ik|xx|n|nn] [--relayer-key KEY]`: hands
//! an intent to the relayer's Noise endpoint (`docs/noise.md`) instead of its HTTP API. The
//! answer is printed as `toss submit` over HTTP prints it.

use super::online::print_answer;
use super::{keypair_path, read_intent, Output};
use clap::ValueEnum;
use std::path::Path;
use std::time::Duration;
use toss_sdk::keys;
use toss_sdk::noise::{
    select_pattern, DeviceIdentity, Handshake, InitiatorOptions, NoiseClient, Pattern, RelayerPin,
    Situation,
};

/// How long connecting plus the handshake, and then the answer, may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `--pattern`.
#[derive(Clone, Copy, ValueEnum)]
pub enum PatternArg {
    /// Known relayer key, client authenticated (needs --relayer-key).
    Ik,
    /// First contact: keys exchanged in the handshake.
    Xx,
    /// Anonymous and one-way (needs --relayer-key; the relayer does not answer).
    N,
    /// Ephemeral keys only, no authentication.
    Nn,
}

impl From<PatternArg> for Pattern {
    fn from(p: PatternArg) -> Self {
        match p {
            PatternArg::Ik => Pattern::Ik,
            PatternArg::Xx => Pattern::Xx,
            PatternArg::N => Pattern::N,
            PatternArg::Nn => Pattern::Nn,
        }
    }
}

/// What `toss submit --noise` was given.
pub struct NoiseSubmit<'a> {
    /// `HOST:PORT` of the Noise endpoint.
    pub addr: &'a str,
    /// The intent argument (base64, `toss:` URI, or `-`).
    pub intent: &'a str,
    /// `--pattern`; default: the Paykit flowchart (IK with a pinned key, else XX).
    pub pattern: Option<PatternArg>,
    /// `--relayer-key`: the relayer's X25519 key (hex or base58), a key record (JSON), or
    /// the path of a file holding either.
    pub relayer_key: Option<&'a str>,
    /// `--device-id`: this client's Noise key is derived for it from `-k`.
    pub device_id: &'a str,
    /// `-k/--keypair`.
    pub keypair: &'a Option<std::path::PathBuf>,
    /// `--output`.
    pub output: Output,
}

fn parse_pin(arg: &str) -> Result<RelayerPin, String> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| format!("--relayer-key {arg}: {e}"))?
    } else {
        arg.to_owned()
    };
    RelayerPin::parse(&text).map_err(|e| format!("--relayer-key: {e}"))
}

/// Runs `toss submit --noise`.
pub fn submit(args: NoiseSubmit<'_>) -> Result<String, String> {
    let signed = read_intent(args.intent)?;
    signed.verify().map_err(|e| e.to_string())?;
    let pin = args.relayer_key.map(parse_pin).transpose()?;
    let pattern = args.pattern.map(Pattern::from).unwrap_or_else(|| {
        select_pattern(Situation {
            recipient_key_known: pin.is_some(),
            sender_auth: true,
            no_identities: false,
        })
    });
    let identity = if pattern.initiator_has_static() {
        let root =
            keys::read_keypair_file(&keypair_path(args.keypair)).map_err(|e| e.to_string())?;
        Some(DeviceIdentity::derive(&root, args.device_id).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let opts = InitiatorOptions {
        pattern,
        identity: identity.as_ref(),
        relayer: pin,
    };
    // Refuse options that do not fit the pattern before touching the network.
    Handshake::initiator(&opts).map_err(|e| e.to_string())?;
    let body = serde_json::json!({"intent": signed.to_base64()});
    let id = hex_id(&signed.id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut client = NoiseClient::connect(args.addr, &opts, TIMEOUT)
            .await
            .map_err(|e| format!("noise handshake with {} ({pattern}) failed: {e}", args.addr))?;
        if pattern.is_one_way() {
            client
                .send_one_way(&body)
                .await
                .map_err(|e| format!("noise: {e}"))?;
            client.finish().await.map_err(|e| format!("noise: {e}"))?;
            return Ok(match args.output {
                Output::Json => {
                    serde_json::json!({"id": id, "status": "sent", "pattern": "N"}).to_string()
                }
                Output::Text => format!(
                    "{id}  sent (pattern N is one-way: the relayer does not answer; \
                     check with toss status {id})"
                ),
            });
        }
        let answer = client
            .request(&body)
            .await
            .map_err(|e| format!("noise: {e}"))?;
        let _ = client.finish().await;
        print_answer(answer.status, &answer.body, args.output)
    })
}

fn hex_id(id: &[u8; 32]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}
