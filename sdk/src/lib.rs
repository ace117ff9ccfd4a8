//! TOSS client SDK: everything a wallet, a merchant app or the relayer needs off-chain, once.
//!
//! - [`keys`]: Solana keypair files (the `solana-keygen` JSON format).
//! - [`amount`]: SOL / lamports / token amounts from user text, exactly.
//! - [`signed`]: signed intents, strict Ed25519 verification, and their byte, base64 and
//!   `toss:` URI forms.
//! - [`payee`]: the merchant's offline check of a received intent.
//! - [`pool`]: a payer's nonce pool at addresses derived from the payer's key, and the online
//!   setup instructions (deposit, token allowance, open and close nonces, withdraw).
//! - [`cluster`]: the `Cluster` trait over JSON-RPC or the in-process bank.
//! - [`events`]: settle outcomes from transaction logs.
//! - [`wallet`]: online payer operations (deposit, pool, allowance, close, withdraw).
//! - [`pack`]: packing settle transactions by real serialized size.
//! - [`noise`]: encrypted channels to the relayer (Noise XX, IK, N, NN via `snow`), device
//!   keys derived from the Ed25519 root and their signed bindings (`docs/noise.md`).
//! - [`transport`]: offline transport frames: BLE fragments, NFC frames, QR codes and parts,
//!   intent bundles (`docs/transports.md`).
//! - [`arcium`]: Arcium MXE confidential mode, client side: Rescue cipher to the MXE key,
//!   the `MXEAccount`, Arcium PDAs (`docs/arcium.md`).
//! - [`precompile`] and [`instructions`]: the Ed25519 precompile instruction in the program's
//!   canonical layout and every program instruction.
//!
//! The intent format itself lives in the program crate ([`toss_intent_processor::intent`]).

pub mod amount;
pub mod arcium;
pub mod cluster;
pub mod error;
pub mod events;
pub mod instructions;
pub mod keys;
pub mod noise;
pub mod pack;
pub mod payee;
pub mod pool;
pub mod pool_file;
pub mod precompile;
pub mod qr;
pub mod signed;
pub mod transport;
pub mod wallet;

pub use error::SdkError;
pub use signed::SignedIntent;
pub use toss_intent_processor::intent::Intent;
