//! Regenerates `idl/toss_intent_processor.json`: `cargo run -p toss-tests --bin toss-idl`.

fn main() {
    match toss_tests::idl::build_idl_json() {
        Ok(json) => {
            let path = toss_tests::idl::committed_idl_path();
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("toss-idl: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
            println!("wrote {}", path.display());
        }
        Err(e) => {
            eprintln!("toss-idl: {e}");
            std::process::exit(1);
        }
    }
}
