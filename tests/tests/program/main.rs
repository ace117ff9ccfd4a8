//! The intent-processor program suite: every instruction's happy path and attacks, against the
//! real program in solana-program-test, natively and as the deployable `.so` (`dual_mode!`).
#![allow(deprecated)] // program-test 3.1 marks its API deprecated

mod batch_isolation;
mod compact_verify;
mod compute_units;
mod config_admin;
mod config_initialize;
mod config_set_paused;
mod formats;
mod idl_compat;
mod intent_settle;
mod intent_settle_accounts;
mod intent_settle_compact;
mod intent_settle_precompile;
mod intent_settle_token;
mod model;
mod nonce_close;
mod sdk_pool_pack;
mod vault_deposit;
mod vault_withdraw;
