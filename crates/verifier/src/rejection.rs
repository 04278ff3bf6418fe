//! Which protocol step rejected a STARK, named from winterfell's verifier errors.

use alloc::string::{String, ToString};
use core::fmt;

use winter_fri::VerifierError as FriError;
use winter_verifier::VerifierError;

/// The protocol step at which the STARK was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StarkRejection {
    /// The constraints evaluated over the out-of-domain frame differ from the quotient values
    /// the proof sends for `z`.
    OodConstraints,
    /// An opened trace row is not in the trace commitment.
    TraceOpening,
    /// An opened quotient row is not in the constraint commitment.
    QuotientOpening,
    /// The grinding nonce does not meet the preset's proof-of-work.
    ProofOfWork,
    /// FRI layer `depth` holds values other than the DEEP composition (depth 0) or the fold of
    /// the layer above.
    FriLayer {
        /// The layer.
        depth: usize,
    },
    /// A FRI layer opening is not in that layer's commitment.
    FriOpening,
    /// The last FRI layer's values are not the remainder's evaluations.
    RemainderFolding,
    /// The remainder has more coefficients than the degree bound allows.
    RemainderDegree,
    /// Anything else winterfell reports (its message).
    Other(String),
}

impl From<VerifierError> for StarkRejection {
    fn from(e: VerifierError) -> Self {
        match e {
            VerifierError::InconsistentOodConstraintEvaluations => Self::OodConstraints,
            VerifierError::TraceQueryDoesNotMatchCommitment => Self::TraceOpening,
            VerifierError::ConstraintQueryDoesNotMatchCommitment => Self::QuotientOpening,
            VerifierError::QuerySeedProofOfWorkVerificationFailed => Self::ProofOfWork,
            VerifierError::FriVerificationFailed(f) => match f {
                FriError::InvalidLayerFolding(depth) => Self::FriLayer { depth },
                FriError::LayerCommitmentMismatch => Self::FriOpening,
                FriError::InvalidRemainderFolding => Self::RemainderFolding,
                FriError::RemainderDegreeMismatch(_) | FriError::RemainderDegreeNotValid => {
                    Self::RemainderDegree
                }
                other => Self::Other(other.to_string()),
            },
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for StarkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OodConstraints => f.write_str(
                "the constraints at the out-of-domain point differ from the quotient values",
            ),
            Self::TraceOpening => f.write_str("an opened trace row is not in the trace commitment"),
            Self::QuotientOpening => {
                f.write_str("an opened quotient row is not in the constraint commitment")
            }
            Self::ProofOfWork => f.write_str("the grinding nonce misses the proof-of-work"),
            Self::FriLayer { depth: 0 } => {
                f.write_str("FRI layer 0 is not the DEEP composition of the opened rows")
            }
            Self::FriLayer { depth } => {
                write!(f, "FRI layer {depth} is not the fold of the layer above")
            }
            Self::FriOpening => f.write_str("a FRI layer opening is not in its commitment"),
            Self::RemainderFolding => {
                f.write_str("the last FRI layer is not the remainder's evaluations")
            }
            Self::RemainderDegree => f.write_str("the FRI remainder's degree is too high"),
            Self::Other(why) => f.write_str(why),
        }
    }
}
