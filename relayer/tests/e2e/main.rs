//! The relayer end to end through real HTTP (reqwest) on the in-process cluster running the
//! real program, with a SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arcium;
mod bad_input;
mod cli;
mod demo;
mod faults;
mod forms;
mod harness;
mod hostile;
mod instances;
mod noise;
mod noise_attacks;
mod noise_cli;
mod settle;
mod tables;
