//! Noise: the relayer's side of every pattern reading an arbitrary first handshake message
//! (and, when it gets that far, an arbitrary third), key bindings from arbitrary JSON, and an
//! established session decrypting arbitrary transport messages. Errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Mutex, OnceLock};
use toss_sdk::noise::{DeviceIdentity, Handshake, InitiatorOptions, KeyBinding, Pattern, Session};

fn relayer() -> &'static DeviceIdentity {
    static ID: OnceLock<DeviceIdentity> = OnceLock::new();
    ID.get_or_init(|| DeviceIdentity::from_seed(&[7; 32], "relayer").expect("identity"))
}

/// The relayer's side of an `NN` session with a client.
fn session() -> &'static Mutex<Option<Session>> {
    static SESSION: OnceLock<Mutex<Option<Session>>> = OnceLock::new();
    SESSION.get_or_init(|| {
        let opts = InitiatorOptions {
            pattern: Pattern::Nn,
            identity: None,
            relayer: None,
        };
        let established = (|| {
            let mut client = Handshake::initiator(&opts).ok()?;
            let mut server = Handshake::responder(Pattern::Nn, None).ok()?;
            server.read_message(&client.write_message().ok()?).ok()?;
            client.read_message(&server.write_message().ok()?).ok()?;
            server.into_session().ok()
        })();
        Mutex::new(established)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let pattern = Pattern::ALL[usize::from(selector) % Pattern::ALL.len()];
    if let Ok(binding) = KeyBinding::from_json_bytes(body) {
        let _ = binding.verify();
    }
    // Split the body into up to three handshake messages.
    let third = body.len() / 3;
    let (first, rest) = body.split_at(third);
    let (second, last) = rest.split_at(rest.len() / 2);
    if let Ok(mut responder) = Handshake::responder(pattern, Some(relayer())) {
        if responder.read_message(first).is_ok() && !responder.is_finished() {
            let _ = responder.write_message();
            let _ = responder.read_message(second);
        }
        if responder.is_finished() {
            if let Ok(mut session) = responder.into_session() {
                let _ = session.decrypt(last);
            }
        }
    }
    // An established session (made once) decrypting arbitrary transport messages: a failed
    // decryption leaves it usable.
    if let Ok(mut session) = session().lock() {
        if let Some(session) = session.as_mut() {
            let _ = session.decrypt(body);
        }
    }
});
