//! The relayer's configuration file: arbitrary text parses into a config or a located error,
//! and a parsed config validates or lists its problems; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toss_relayer::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text, "fuzz.toml") {
        let _ = config.validate();
        let mut again = config.clone();
        let _ = again.apply_env(|_| None);
        assert_eq!(again, config, "no environment, no change");
    }
});
