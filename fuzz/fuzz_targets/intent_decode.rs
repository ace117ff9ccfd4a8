//! The canonical intent decoder (program and SDK share it) and the signed-intent wire forms
//! (bytes, base64, `toss:` URI): never a panic; whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toss_intent_processor::intent::Intent;
use toss_sdk::SignedIntent;

fuzz_target!(|data: &[u8]| {
    if let Ok(intent) = Intent::decode(data) {
        let again = intent.encode().expect("a decoded intent encodes");
        assert_eq!(again, data, "decode then encode is the identity");
    }
    if let Ok(signed) = SignedIntent::from_bytes(data) {
        assert_eq!(signed.to_bytes(), data);
        let _ = signed.verify();
        assert_eq!(
            SignedIntent::from_base64(&signed.to_base64()).ok(),
            Some(signed.clone())
        );
        assert_eq!(SignedIntent::from_uri(&signed.to_uri()).ok(), Some(signed));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SignedIntent::from_base64(text);
        let _ = SignedIntent::from_uri(text);
    }
});
