//! Why a proof was rejected.

use alloc::string::String;
use core::fmt;

use glassbox_air::{EnvelopeError, ModelDigest};
use winter_verifier::{ProofOptions, TraceInfo};

use crate::rejection::StarkRejection;
use crate::shape::{StarkOptions, TraceDims};

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The bytes are not a well-formed proof file.
    Envelope(EnvelopeError),
    /// The proof's preset is weaker than required.
    SecurityTooLow {
        /// Bits asked for.
        required: u32,
        /// Bits the proof offers.
        got: u32,
    },
    /// No preset reaches the requested level at all.
    UnreachableSecurity(u32),
    /// The statement is malformed or does not fit the model.
    Statement(&'static str),
    /// The proof is bound to a different model.
    DigestMismatch {
        /// Digest asked for.
        expected: ModelDigest,
        /// Digest the proof commits to.
        got: ModelDigest,
    },
    /// The STARK bytes do not parse.
    ProofFormat(String),
    /// The STARK uses options other than its preset's.
    OptionsMismatch {
        /// The preset's options.
        expected: StarkOptions,
        /// The proof's.
        got: StarkOptions,
    },
    /// The STARK's trace shape differs from what the model implies.
    TraceShape {
        /// The shape the model and batch imply.
        expected: TraceDims,
        /// The proof's.
        got: TraceDims,
    },
    /// The STARK does not verify: the step that failed.
    Rejected(StarkRejection),
    /// The proof's weights are not the ones the digest commits to.
    WeightMismatch,
    /// The FRI remainder is not the polynomial the prover committed to before the query
    /// positions were drawn (a check winterfell 0.13.1 does not make).
    RemainderMismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "{e}"),
            Self::SecurityTooLow { required, got } => {
                write!(
                    f,
                    "proof offers {got} bits of security; {required} were required"
                )
            }
            Self::UnreachableSecurity(b) => write!(f, "no supported preset reaches {b} bits"),
            Self::Statement(why) => write!(f, "invalid statement: {why}"),
            Self::DigestMismatch { expected, got } => {
                write!(f, "proof is for model {got}, not {expected}")
            }
            Self::ProofFormat(e) => write!(f, "malformed STARK proof: {e}"),
            Self::OptionsMismatch { expected, got } => write!(
                f,
                "STARK proof options do not match its security preset: {got}, expected {expected}"
            ),
            Self::TraceShape { expected, got } => write!(
                f,
                "STARK trace shape does not match the model: {got}, expected {expected}"
            ),
            Self::Rejected(e) => write!(f, "STARK proof rejected: {e}"),
            Self::RemainderMismatch => write!(
                f,
                "the FRI remainder does not match its commitment (low-degree test voided)"
            ),
            Self::WeightMismatch => {
                write!(
                    f,
                    "the proof's weights are not the committed model's weights"
                )
            }
        }
    }
}

impl core::error::Error for VerifyError {}

/// The options of a proof that are not its preset's.
pub(crate) fn options_mismatch(expected: &ProofOptions, got: &ProofOptions) -> VerifyError {
    VerifyError::OptionsMismatch {
        expected: expected.into(),
        got: got.into(),
    }
}

/// The trace shape of a proof that is not the one its model implies.
pub(crate) fn shape_mismatch(expected: &TraceInfo, got: &TraceInfo) -> VerifyError {
    VerifyError::TraceShape {
        expected: expected.into(),
        got: got.into(),
    }
}
