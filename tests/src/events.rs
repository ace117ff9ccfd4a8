//! Reading the program's events back from transaction logs (the SDK's parser).

pub use toss_sdk::events::{outcomes, Outcome};
