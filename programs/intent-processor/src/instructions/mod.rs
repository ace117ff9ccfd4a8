//! One file per instruction: its arguments, accounts, `validate()` and handler.
// Anchor's `#[program]` needs each module's generated items at this level; every module also
// has a `handler`, which callers name by its full path.
#![allow(ambiguous_glob_reexports)]

pub mod config_accept_admin;
pub mod config_initialize;
pub mod config_propose_admin;
pub mod config_set_paused;
pub mod config_update;
pub mod intent_settle;
pub mod intent_settle_compact;
pub mod nonce_close_execute;
pub mod nonce_close_request;
pub mod vault_deposit;
pub mod vault_open;
pub mod vault_withdraw_cancel;
pub mod vault_withdraw_execute;
pub mod vault_withdraw_request;

pub use config_accept_admin::*;
pub use config_initialize::*;
pub use config_propose_admin::*;
pub use config_set_paused::*;
pub use config_update::*;
pub use intent_settle::*;
pub use intent_settle_compact::*;
pub use nonce_close_execute::*;
pub use nonce_close_request::*;
pub use vault_deposit::*;
pub use vault_open::*;
pub use vault_withdraw_cancel::*;
pub use vault_withdraw_execute::*;
pub use vault_withdraw_request::*;
