//! The committed IDL against the program: instruction data and events encoded from fixed
//! inputs are committed in `idl/fixtures.json`; `clients/ts/check-idl.mjs` re-encodes them with
//! the official Anchor TS client (`BorshCoder` on the committed IDL) and must get the same bytes,
//! and here the same bytes run in both modes with the same effect.

use anchor_lang::{AnchorSerialize, Discriminator, InstructionData};
use serde_json::{json, Value};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_intent_processor::{
    events::{CompactIntentRejected, IntentRejected, IntentSettled, RejectReason},
    instruction as ix,
    instructions::{
        CompactIntent, ConfigInitializeArgs, ConfigUpdateArgs, IntentSettleArgs,
        IntentSettleCompactArgs,
    },
    state::Config,
};
use toss_tests::*;

fn key(byte: u8) -> Pubkey {
    Pubkey::new_from_array([byte; 32])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn event<E: AnchorSerialize + Discriminator>(e: &E) -> String {
    let mut data = E::DISCRIMINATOR.to_vec();
    e.serialize(&mut data).unwrap();
    hex(&data)
}

/// The fixture: fixed inputs and the bytes the Rust side produces for them.
fn fixtures() -> Value {
    let init = ConfigInitializeArgs {
        admin: key(1),
        max_intent_lifetime_secs: 3_600,
        max_relayer_fee: 50_000,
        withdrawal_delay_secs: 7_200,
        paused: false,
        withdrawal_window_secs: toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
    };
    let compact = vec![
        CompactIntent {
            signature: core::array::from_fn(|i| i as u8),
            kind: 0,
            amount: 1_000_000_000,
            expiry: 1_700_000_000,
            max_fee: 5_000,
            fee: 4_000,
            nonce_hint: [1, 2, 3, 4],
            reference: None,
        },
        CompactIntent {
            signature: [0xEE; 64],
            kind: 1,
            amount: u64::MAX,
            expiry: i64::MAX,
            max_fee: 0,
            fee: 0,
            nonce_hint: [255, 0, 255, 0],
            reference: Some([6; 32]),
        },
    ];
    let compact_json: Vec<Value> = compact
        .iter()
        .map(|c| {
            json!({"signature": c.signature.to_vec(), "kind": c.kind,
                "amount": c.amount.to_string(), "expiry": c.expiry.to_string(),
                "max_fee": c.max_fee.to_string(), "fee": c.fee.to_string(),
                "nonce_hint": c.nonce_hint.to_vec(), "reference": c.reference.map(|r| r.to_vec())})
        })
        .collect();
    json!({
        "instructions": [
            {"name": "config_initialize", "args": {"args": {
                "admin": key(1).to_string(), "max_intent_lifetime_secs": "3600",
                "max_relayer_fee": "50000", "withdrawal_delay_secs": "7200", "paused": false,
                "withdrawal_window_secs": "86400"}},
             "data": hex(&ix::ConfigInitialize { args: init }.data())},
            {"name": "config_update", "args": {"args": {
                "max_intent_lifetime_secs": "600", "max_relayer_fee": "1000",
                "withdrawal_delay_secs": "900", "withdrawal_window_secs": "3600"}},
             "data": hex(&ix::ConfigUpdate { args: ConfigUpdateArgs {
                max_intent_lifetime_secs: 600, max_relayer_fee: 1_000, withdrawal_delay_secs: 900,
                withdrawal_window_secs: 3_600,
             }}.data())},
            {"name": "config_set_paused", "args": {"paused": true},
             "data": hex(&ix::ConfigSetPaused { paused: true }.data())},
            {"name": "config_propose_admin", "args": {"proposed": key(2).to_string()},
             "data": hex(&ix::ConfigProposeAdmin { proposed: key(2) }.data())},
            {"name": "vault_deposit", "args": {"amount": "1500000000"},
             "data": hex(&ix::VaultDeposit { amount: 1_500_000_000 }.data())},
            {"name": "vault_withdraw_request", "args": {"amount": "18446744073709551615"},
             "data": hex(&ix::VaultWithdrawRequest { amount: u64::MAX }.data())},
            {"name": "intent_settle", "args": {"args": {"fees": ["0", "5000", "18446744073709551615"]}},
             "data": hex(&ix::IntentSettle { args: IntentSettleArgs { fees: vec![0, 5_000, u64::MAX] } }.data())},
            {"name": "intent_settle_compact", "args": {"args": {"intents": compact_json}},
             "data": hex(&ix::IntentSettleCompact { args: IntentSettleCompactArgs { intents: compact } }.data())},
        ],
        "events": [
            {"name": "IntentSettled", "fields": {"id": vec![7u8; 32], "sender": key(3).to_string(),
                "recipient": key(4).to_string(), "amount": "1000000000", "fee": "5000"},
             "data": event(&IntentSettled { id: [7; 32], sender: key(3), recipient: key(4),
                amount: 1_000_000_000, fee: 5_000 })},
            {"name": "IntentRejected", "fields": {"id": vec![9u8; 32], "reason": "StaleNonce"},
             "data": event(&IntentRejected { id: [9; 32], reason: RejectReason::StaleNonce })},
            {"name": "IntentRejected", "fields": {"id": vec![8u8; 32], "reason": "BadSignature"},
             "data": event(&IntentRejected { id: [8; 32], reason: RejectReason::BadSignature })},
            {"name": "CompactIntentRejected", "fields": {"nonce_account": key(5).to_string(),
                "nonce_hint": [1, 2, 3, 4], "reason": "StaleNonce"},
             "data": event(&CompactIntentRejected { nonce_account: key(5),
                nonce_hint: [1, 2, 3, 4], reason: RejectReason::StaleNonce })},
        ],
    })
}

#[test]
fn committed_fixtures_are_current() {
    let path = toss_tests::idl::workspace_root().join("idl/fixtures.json");
    let mut generated = serde_json::to_string_pretty(&fixtures()).unwrap();
    generated.push('\n');
    if std::env::var_os("TOSS_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: rerun this test with TOSS_WRITE_FIXTURES=1 and commit it",
        path.display()
    );
}

dual_mode!(
    idl_encoded_instruction_runs_identically,
    |mode| async move {
        // The config_initialize bytes the TS client also produces from the IDL (admin = [1; 32]).
        let fx = fixtures();
        let data_hex = fx["instructions"][0]["data"].as_str().unwrap().to_string();
        let data: Vec<u8> = (0..data_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&data_hex[i..i + 2], 16).unwrap())
            .collect();
        let mut env = Env::start_uninitialized(mode).await;
        let authority = env.upgrade_authority.insecure_clone();
        let template = config_initialize_ix(&authority.pubkey(), env.default_config_args());
        let ix = Instruction { data, ..template };
        env.send(&[ix], &[&authority]).await.assert_ok();
        let account = env.account(&Config::ADDRESS).await.unwrap();
        let config: Config =
            anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
        assert_eq!(config.admin, key(1));
        assert_eq!(
            (
                config.max_intent_lifetime_secs,
                config.max_relayer_fee,
                config.withdrawal_delay_secs
            ),
            (3_600, 50_000, 7_200)
        );
        assert!(!config.paused);
    }
);
