//! The proof file's identity (magic and version) and why bytes are not a proof envelope.

use core::fmt;

use crate::limits::MAX_PROOF_BYTES;

/// First bytes of every proof file.
pub const ENVELOPE_MAGIC: [u8; 8] = *b"GBPROOF\0";
/// Current envelope format version.
pub const ENVELOPE_VERSION: u16 = 8;

/// Why bytes are not a proof envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Larger than [`MAX_PROOF_BYTES`].
    TooLarge {
        /// Bytes received.
        got: usize,
    },
    /// Wrong magic bytes: not a glassbox proof.
    Magic,
    /// An envelope version this verifier does not know.
    Version {
        /// Version found.
        got: u16,
    },
    /// The bytes end early.
    Truncated {
        /// What was being read.
        field: &'static str,
    },
    /// A field holds a value outside its allowed range.
    Invalid {
        /// Which field.
        field: &'static str,
    },
    /// Bytes remain after the envelope.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { got } => write!(
                f,
                "proof file is {got} bytes; the limit is {MAX_PROOF_BYTES}"
            ),
            Self::Magic => write!(f, "not a glassbox proof (wrong magic bytes)"),
            Self::Version { got } => write!(
                f,
                "proof format version {got} is not supported (expected {ENVELOPE_VERSION})"
            ),
            Self::Truncated { field } => write!(f, "proof file ends early while reading {field}"),
            Self::Invalid { field } => write!(f, "proof file has an invalid {field}"),
            Self::TrailingBytes { count } => {
                write!(f, "proof file has {count} unexpected trailing bytes")
            }
        }
    }
}
