//! Test-side client and harness for the intent-processor suites: signs intents with
//! `ed25519-dalek`, lays out the Ed25519 precompile instruction canonically, builds every
//! instruction, and runs the real program in `solana-program-test`, natively or as the
//! deployable `.so`.
#![allow(deprecated)] // program-test 3.1 marks its API deprecated

pub mod client;
pub mod env;
pub mod events;
pub mod idl;
pub mod token;

pub use client::*;
pub use env::*;
pub use events::*;
pub use token::*;
