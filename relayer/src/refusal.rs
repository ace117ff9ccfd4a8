//! Every error code the relayer answers with: in HTTP and Noise bodies
//! (`{"error": {"code", "message"}}`), in `toss_intents_refused_total{code}`, and in the
//! README and `relayer/openapi.yaml`. One enum, so a code cannot be misspelled at one site.

use std::fmt;

/// A stable, machine-readable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    // The request itself.
    /// The body is not JSON, or not `{"intent": …}` / an array of them.
    MalformedJson,
    /// The body could not be read.
    MalformedBody,
    /// The body is over `server.max_body_bytes`.
    BodyTooLarge,
    /// More intents in one request than `server.max_bulk` (or than one Noise message holds).
    TooManyIntents,
    /// A Noise operation nobody knows.
    UnknownOp,
    /// An intent id that is not 64 hex characters.
    BadId,
    // The intent's encoding.
    /// Not standard base64.
    BadBase64,
    /// Shorter or longer than its header says.
    BadLength,
    /// Not a well-formed intent.
    MalformedIntent,
    /// A version-2 (confidential) intent: handed to confidential mode.
    ConfidentialIntent,
    /// The signature does not verify for the sender (`verify_strict`).
    BadSignature,
    // The rules the program enforces.
    /// Past its expiry.
    Expired,
    /// Expiry further away than the lifetime allowed.
    LifetimeTooLong,
    /// Amount below `intake.dust_lamports`.
    BelowDust,
    /// Amount above `intake.max_amount_lamports`.
    AboveCap,
    /// Fee above the relayer's or the program's cap.
    FeeAboveCap,
    /// A mint outside `intake.allowed_mints`.
    MintNotAllowed,
    /// A recipient no program may pay (sysvar, builtin, the program's own accounts).
    ReservedRecipient,
    /// A SOL payment too small for its (empty or nearly empty) recipient to stay rent-exempt.
    RecipientNotRentExempt,
    /// A token payment to a recipient whose token account for the mint is missing, frozen or
    /// carries an extension the program cannot pay into.
    RecipientTokenAccountUnusable,
    /// The nonce account does not exist (or is not a nonce).
    UnknownNonce,
    /// The nonce account no longer holds the signed value.
    StaleNonce,
    /// The nonce account is not the sender's: its authority is not the sender's
    /// nonce-authority PDA.
    NonceAuthorityMismatch,
    // The fee payer's protection.
    /// The sender's vault or allowance cannot cover it on top of its open intents.
    InsufficientFunds,
    /// The sender's intents kept failing on-chain: refused for a while.
    SenderBackedOff,
    /// Over a per-IP or per-sender rate limit.
    RateLimited,
    /// The sender has the most open intents allowed on this nonce account already.
    NonceBusy,
    // The relayer's state.
    /// The cluster cannot be reached to check the intent.
    ClusterUnavailable,
    /// The store cannot be reached or written.
    StoreUnavailable,
    /// Shutdown began.
    ShuttingDown,
    /// No such intent or route.
    NotFound,
    /// Admin call without the right bearer token.
    Unauthorized,
    /// Admin calls are off (`server.admin_token` unset).
    AdminDisabled,
    /// The Noise endpoint is off.
    NoiseDisabled,
    /// Confidential mode is off (its endpoints).
    ArciumDisabled,
    /// Confidential mode is off (a confidential intent).
    ConfidentialDisabled,
    /// A valid confidential intent the deployed program cannot settle.
    ConfidentialSettlementUnavailable,
    /// No MXE public key is set yet.
    MxeKeyUnset,
    /// The MXE account is missing.
    MxeAccountMissing,
    /// The MXE account is not a valid one.
    MxeAccountInvalid,
    /// The MXE key could not be read now.
    MxeUnavailable,
    /// A Noise message that does not decrypt.
    DecryptFailed,
    /// A Noise frame over the size limit.
    FrameTooLarge,
}

impl Code {
    /// The code as it appears on the wire (`snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed_json",
            Code::MalformedBody => "malformed_body",
            Code::BodyTooLarge => "body_too_large",
            Code::TooManyIntents => "too_many_intents",
            Code::UnknownOp => "unknown_op",
            Code::BadId => "bad_id",
            Code::BadBase64 => "bad_base64",
            Code::BadLength => "bad_length",
            Code::MalformedIntent => "malformed_intent",
            Code::ConfidentialIntent => "confidential_intent",
            Code::BadSignature => "bad_signature",
            Code::Expired => "expired",
            Code::LifetimeTooLong => "lifetime_too_long",
            Code::BelowDust => "below_dust",
            Code::AboveCap => "above_cap",
            Code::FeeAboveCap => "fee_above_cap",
            Code::MintNotAllowed => "mint_not_allowed",
            Code::ReservedRecipient => "reserved_recipient",
            Code::RecipientNotRentExempt => "recipient_not_rent_exempt",
            Code::RecipientTokenAccountUnusable => "recipient_token_account_unusable",
            Code::UnknownNonce => "unknown_nonce",
            Code::StaleNonce => "stale_nonce",
            Code::NonceAuthorityMismatch => "nonce_authority_mismatch",
            Code::InsufficientFunds => "insufficient_funds",
            Code::SenderBackedOff => "sender_backed_off",
            Code::RateLimited => "rate_limited",
            Code::NonceBusy => "nonce_busy",
            Code::ClusterUnavailable => "cluster_unavailable",
            Code::StoreUnavailable => "store_unavailable",
            Code::ShuttingDown => "shutting_down",
            Code::NotFound => "not_found",
            Code::Unauthorized => "unauthorized",
            Code::AdminDisabled => "admin_disabled",
            Code::NoiseDisabled => "noise_disabled",
            Code::ArciumDisabled => "arcium_disabled",
            Code::ConfidentialDisabled => "confidential_disabled",
            Code::ConfidentialSettlementUnavailable => "confidential_settlement_unavailable",
            Code::MxeKeyUnset => "mxe_key_unset",
            Code::MxeAccountMissing => "mxe_account_missing",
            Code::MxeAccountInvalid => "mxe_account_invalid",
            Code::MxeUnavailable => "mxe_unavailable",
            Code::DecryptFailed => "decrypt_failed",
            Code::FrameTooLarge => "frame_too_large",
        }
    }

    /// The HTTP status an intake refusal with this code is answered with: 400 for what cannot
    /// be read, 429 for limits, 503 when the fault is the relayer's, 422 for the rest.
    pub fn status(self) -> u16 {
        match self {
            Code::MalformedJson
            | Code::MalformedBody
            | Code::BadBase64
            | Code::BadLength
            | Code::MalformedIntent
            | Code::BadId
            | Code::UnknownOp => 400,
            Code::Unauthorized => 401,
            Code::NotFound | Code::AdminDisabled | Code::NoiseDisabled | Code::ArciumDisabled => {
                404
            }
            Code::BodyTooLarge | Code::TooManyIntents | Code::FrameTooLarge => 413,
            Code::RateLimited | Code::SenderBackedOff | Code::NonceBusy => 429,
            Code::ClusterUnavailable
            | Code::StoreUnavailable
            | Code::ShuttingDown
            | Code::MxeKeyUnset
            | Code::MxeAccountMissing
            | Code::MxeAccountInvalid
            | Code::MxeUnavailable => 503,
            _ => 422,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why an intent was refused: a [`Code`] and a one-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Stable code, documented in the README and OpenAPI.
    pub code: Code,
    /// Human-readable detail.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// True when the fault is ours (cluster unreachable), not the client's.
    pub fn is_unavailable(&self) -> bool {
        self.code == Code::ClusterUnavailable
    }
}
