//! Why a model cannot be compiled or a batch cannot be executed.

use glassbox_air::commitment::CommitmentError;
use glassbox_air::DescriptorError;

/// Why a model cannot be compiled or a batch cannot be executed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    /// The model does not fit any supported trace layout.
    #[error("the model does not fit a provable layout: {0}")]
    Layout(DescriptorError),
    /// The weight commitment could not be built.
    #[error("the weights cannot be committed: {0}")]
    Commitment(CommitmentError),
    /// A patch layer's output order is not a mixed-radix order of a power-of-two count.
    #[error("layer {layer} orders its outputs in a way the AIR cannot step through")]
    PatchOrder {
        /// Layer index.
        layer: usize,
    },
    /// An activation table does not have 256 values within `-255..=255`.
    #[error("layer {layer}'s activation table needs 256 values within -255..=255")]
    Table {
        /// Layer index.
        layer: usize,
    },
    /// A convolution stored as a stencil has a weight off its stencil.
    #[error("layer {layer} has a weight off its convolution stencil")]
    OffStencil {
        /// Layer index.
        layer: usize,
    },
    /// No trace the compiler considers holds the requested samples per proof.
    #[error("one proof holds at most {max} samples of this model; {wanted} were asked for")]
    ProofBatch {
        /// `proof_batch` asked for.
        wanted: usize,
        /// Largest batch any considered trace holds.
        max: usize,
    },
    /// A weight or bias array has the wrong size.
    #[error("layer {layer} has {got} weights; expected {expected}")]
    WeightCount {
        /// Layer index.
        layer: usize,
        /// `n_out · n_in / groups`.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// An input sample has the wrong length.
    #[error("sample {sample} has {got} values; the model takes {expected}")]
    InputLength {
        /// Sample index.
        sample: usize,
        /// Model input length.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// A quantized input is outside int8.
    #[error("sample {sample} has quantized value {value} outside -128..=127")]
    InputRange {
        /// Sample index.
        sample: usize,
        /// The value.
        value: i64,
    },
    /// An activation leaves the range the proof can represent.
    #[error("sample {sample}: activation {index} of layer {layer} overflows the provable range")]
    ActivationOverflow {
        /// Sample index.
        sample: usize,
        /// Layer index.
        layer: usize,
        /// Output index.
        index: usize,
    },
    /// The batch is empty or larger than one proof holds.
    #[error("a proof holds 1..={max} samples of this model; got {got}")]
    BatchSize {
        /// Largest batch.
        max: usize,
        /// Requested.
        got: usize,
    },
}

// the AIR's errors are `no_std` and carry no `std::error::Error`, so no `#[from]`
impl From<DescriptorError> for CompileError {
    fn from(e: DescriptorError) -> Self {
        Self::Layout(e)
    }
}

impl From<CommitmentError> for CompileError {
    fn from(e: CommitmentError) -> Self {
        Self::Commitment(e)
    }
}
