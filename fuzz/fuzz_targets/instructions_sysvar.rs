//! The program's zero-copy readers of the instructions sysvar and of the Ed25519 precompile's
//! offsets table, on arbitrary sysvar bytes: errors, never a panic or an out-of-bounds read;
//! every message they hand out lies inside the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toss_intent_processor::ed25519::{current_index, load_instruction, Precompile};

fuzz_target!(|data: &[u8]| {
    let _ = current_index(data);
    for index in 0..4u16 {
        if let Ok(ix) = load_instruction(data, index) {
            let _ = ix;
        }
    }
    for current in 0..4u16 {
        let Ok(precompile) = Precompile::load_preceding(data, current) else {
            continue;
        };
        let count = precompile.count();
        let mut messages = precompile.messages();
        for _ in 0..count.min(64) {
            match messages.next_message() {
                Ok(m) => assert!(m.len() <= data.len()),
                Err(_) => break,
            }
        }
        let _ = messages.finish();
    }
});
