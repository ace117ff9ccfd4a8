//! The relayer's HTTP intake body (`POST /v1/intents`, also the Noise ingress): JSON, the
//! single or bulk form, each item's base64 signed intent, its signature and the intent rules
//! that need no cluster. Every refusal is a typed error with a code, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toss_relayer::intake::request_texts;
use toss_relayer::validate::parse_base64;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match request_texts(value, 64) {
        Ok(request) => {
            assert!(!request.texts.is_empty() && request.texts.len() <= 64);
            for text in &request.texts {
                if let Ok(signed) = parse_base64(text) {
                    let _ = signed.verify();
                }
            }
        }
        Err(e) => assert!(!e.body()["error"]["code"].is_null()),
    }
});
