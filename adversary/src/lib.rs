//! A malicious prover for glassbox, kept so that every claim about what a proof binds is tested
//! by a prover that tries to forge it.
//!
//! [`forge`] runs winterfell's proving protocol for glassbox's AIR step by step ([`stark`]) and
//! deviates at exactly one step, named by a [`Forgery`]. The tests in `tests/forgeries.rs` hand
//! every forgery to the unmodified `glassbox_verifier::verify` and require the rejection the
//! verifier's documentation names for that step. With [`Forgery::Honest`] the same code must be
//! accepted, which shows the harness follows the protocol and that each rejection is the
//! forgery's doing.
//!
//! Nothing here patches winterfell: it uses winterfell's public trace LDE, constraint evaluator
//! and constraint commitment, and computes the rest itself.

pub mod edits;
pub mod fri;
mod ood;
pub mod stark;

use glassbox_air::{Felt, ProofEnvelope, SecurityLevel, WeightCommitment};
use glassbox_trace::Trace as MainTrace;
use winterfell::crypto::{hashers::Blake3_256, DefaultRandomCoin, Hasher};

/// The hash of glassbox's STARK commitments.
pub type Hash = Blake3_256<Felt>;
/// A commitment digest.
pub type Digest = <Hash as Hasher>::Digest;
/// The public coin.
pub type Coin = DefaultRandomCoin<Hash>;

/// One deviation from the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
    /// No deviation: the proof must verify.
    Honest,
    /// The first output is off by one; every step is then honest.
    FalseOutput,
    /// The first input is changed; every step is then honest.
    FalseInput,
    /// A false output, with the first quotient column's out-of-domain value chosen so that the
    /// constraint check at `z` passes; the DEEP composition uses that value; FRI is honest.
    OodFitted,
    /// As [`Forgery::OodFitted`], and the FRI remainder is fitted through the last layer's
    /// values at the query positions after they are drawn (the attack in `shared/attacks/`).
    RemainderFitted,
    /// A false output with fitted out-of-domain values, and FRI layers after the first that are
    /// not the fold of the layer above (zero, which has low degree).
    LayerNotFolded,
    /// An honest proof whose grinding nonce misses the proof-of-work.
    WeakNonce,
    /// An honest proof whose trace rows are opened at positions other than those the coin
    /// gives.
    ShiftedQueries,
    /// An honest proof whose quotient rows (only) are opened at other positions.
    ShiftedQuotientQueries,
    /// An honest proof whose FRI layers (only) are opened at other positions.
    ShiftedFriQueries,
    /// An honest proof whose quotient values at `z·g` (which enter the DEEP composition but not
    /// the constraint check) are sent off by one, while FRI runs on the true DEEP composition.
    DeepFromOtherOod,
    /// An honest proof whose remainder carries twice the coefficients the degree bound allows
    /// (zero high coefficients), committed as sent.
    RemainderTooLong,
    /// An honest proof whose weight opening is for other rows.
    WeightOpeningOtherRows,
    /// An honest proof whose weight opening is of another model's tree, at the right rows.
    WeightOpeningOtherTree,
    /// A trace whose weight cells differ from the committed ones in a way the AIR cannot see
    /// (both sketches kept, only weights that meet zero inputs); every step is then honest.
    TraceWeightsEdited,
}

impl Forgery {
    /// Every forgery, honest first.
    pub const ALL: [Forgery; 15] = [
        Forgery::Honest,
        Forgery::FalseOutput,
        Forgery::FalseInput,
        Forgery::OodFitted,
        Forgery::RemainderFitted,
        Forgery::LayerNotFolded,
        Forgery::WeakNonce,
        Forgery::ShiftedQueries,
        Forgery::ShiftedQuotientQueries,
        Forgery::ShiftedFriQueries,
        Forgery::DeepFromOtherOod,
        Forgery::RemainderTooLong,
        Forgery::WeightOpeningOtherRows,
        Forgery::WeightOpeningOtherTree,
        Forgery::TraceWeightsEdited,
    ];

    /// Whether the statement claims an output the model did not compute.
    pub fn claims_false_output(self) -> bool {
        matches!(
            self,
            Forgery::FalseOutput
                | Forgery::OodFitted
                | Forgery::RemainderFitted
                | Forgery::LayerNotFolded
        )
    }

    /// Whether the out-of-domain quotient value is fitted to the constraint check.
    pub fn fits_ood(self) -> bool {
        matches!(
            self,
            Forgery::OodFitted | Forgery::RemainderFitted | Forgery::LayerNotFolded
        )
    }
}

/// Proves `trace` at `level` with `forgery` applied.
///
/// # Panics
/// If `trace` cannot take the forgery (see [`edits::keep_sketches`]).
pub fn forge(trace: &MainTrace, level: SecurityLevel, forgery: Forgery) -> ProofEnvelope {
    match forgery {
        Forgery::TraceWeightsEdited => {
            let mut edited = trace.clone();
            edits::keep_sketches(&mut edited);
            stark::prove(&edited, level, forgery, None)
        }
        Forgery::WeightOpeningOtherTree => {
            let other = other_tree(trace);
            stark::prove(trace, level, forgery, Some(&other))
        }
        _ => stark::prove(trace, level, forgery, None),
    }
}

/// The weight commitment of the same model with one weight changed.
fn other_tree(trace: &MainTrace) -> std::sync::Arc<WeightCommitment> {
    let mut other = trace.clone();
    let col = other.layout.weight_range().start;
    other.columns[col][0] += Felt::new(1);
    other.recommit();
    other.commitment
}
