//! Account types. Each owns its seeds and address derivation, used by the program, the SDK, the
//! relayer and the tests alike.

pub mod config;
pub mod delayed;
pub mod nonce_authority;
pub mod nonce_close;
pub mod vault;

pub use config::*;
pub use delayed::*;
pub use nonce_authority::*;
pub use nonce_close::*;
pub use vault::*;
