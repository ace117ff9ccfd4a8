//! Noise unit tests: derivation vectors, bindings, pattern selection (`keys`); handshakes,
//! pins, all-zero DH, framing (`handshakes`).

mod handshakes;
mod keys;

use super::*;

pub(super) fn identity(seed: u8, device: &str) -> DeviceIdentity {
    DeviceIdentity::from_seed(&[seed; 32], device).unwrap()
}

pub(super) fn pin_of(id: &DeviceIdentity) -> RelayerPin {
    RelayerPin {
        x25519: *id.key.public(),
        ed25519: Some(id.binding.ed25519),
    }
}

/// Runs a handshake to completion in memory.
pub(super) fn run(i: &mut Handshake, r: &mut Handshake) -> Result<(), NoiseError> {
    while !(i.is_finished() && r.is_finished()) {
        if i.is_my_turn() && !i.is_finished() {
            let m = i.write_message()?;
            r.read_message(&m)?;
        } else {
            let m = r.write_message()?;
            i.read_message(&m)?;
        }
    }
    Ok(())
}

pub(super) fn pair(
    pattern: Pattern,
    client: &DeviceIdentity,
    relayer: &DeviceIdentity,
) -> (Session, Session) {
    let opts = InitiatorOptions {
        pattern,
        identity: pattern.initiator_has_static().then_some(client),
        relayer: pattern.responder_has_static().then(|| pin_of(relayer)),
    };
    let mut i = Handshake::initiator(&opts).unwrap();
    let mut r = Handshake::responder(pattern, Some(relayer)).unwrap();
    run(&mut i, &mut r).unwrap();
    (i.into_session().unwrap(), r.into_session().unwrap())
}
