//! One file per instruction: its arguments, accounts, `validate()` and handler.
// Anchor's `#[program]` needs each module's generated items at this level; every module also
// has a `handler`, which callers name by its full path.
#![allow(ambiguous_glob_reexports)]

pub mod config_initialize;
pub mod config_set_paused;
pub mod intent_settle;
pub mod vault_deposit;

pub use config_initialize::*;
pub use config_set_paused::*;
pub use intent_settle::*;
pub use vault_deposit::*;
