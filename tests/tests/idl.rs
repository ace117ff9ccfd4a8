//! The committed IDL is what the program builds today (its own process: the builder reads and
//! the test clears `RUSTUP_TOOLCHAIN`).

#[test]
fn committed_idl_is_current() {
    let built = toss_tests::idl::build_idl_json().expect("IDL builds");
    let path = toss_tests::idl::committed_idl_path();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        built == committed,
        "{} is stale: run `cargo run -p toss-tests --bin toss-idl` and commit the result",
        path.display()
    );
    let idl: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(
        idl["address"],
        toss_intent_processor::ID.to_string(),
        "IDL address matches declare_id!"
    );
}
