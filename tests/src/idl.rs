//! The program's IDL, generated natively from the program crate (`idl-build` feature) the way
//! `anchor idl build` does, and the committed copy clients use (`idl/toss_intent_processor.json`).

use std::path::PathBuf;

/// Workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where the committed IDL lives.
pub fn committed_idl_path() -> PathBuf {
    workspace_root().join("idl/toss_intent_processor.json")
}

/// Builds the IDL as pretty JSON with a trailing newline. Runs a nested
/// `cargo test --features idl-build` on the program in its own target directory (so its
/// RUSTFLAGS do not invalidate the main build), without `RUSTUP_TOOLCHAIN` (which would make the
/// builder call `rustup toolchain install`).
pub fn build_idl_json() -> anyhow_free::Result<String> {
    let program = workspace_root().join("programs/intent-processor");
    let target = workspace_root().join("target/idl-build");
    // SAFETY (edition 2021: safe fn): called from single-threaded binaries and a test binary of
    // its own; the builder reads the variable from this process's environment.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program)
        .cargo_args(vec![
            "--target-dir".into(),
            target.to_string_lossy().into_owned(),
        ])
        .build()
        .map_err(|e| e.to_string())?;
    let mut json = serde_json::to_string_pretty(&idl).map_err(|e| e.to_string())?;
    json.push('\n');
    Ok(json)
}

/// A `Result` with a plain message, so this crate needs no error library for one function.
pub mod anyhow_free {
    /// Result with a message.
    pub type Result<T> = std::result::Result<T, String>;
}
