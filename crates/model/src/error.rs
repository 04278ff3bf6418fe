//! The crate's single error type.

use thiserror::Error;

/// Everything that can go wrong while importing, lowering, quantizing or running a model.
///
/// Library code never panics on untrusted input; every failure is one of these variants.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The bytes are not a valid ONNX protobuf (or use a field type we cannot read).
    #[error("bad ONNX protobuf: {0}")]
    BadProtobuf(String),
    /// A size limit was exceeded (file bytes, node count, tensor elements, layer width, ...).
    #[error("{what} too large: limit {limit}, got {got}")]
    TooLarge {
        /// What was measured.
        what: &'static str,
        /// The largest accepted value.
        limit: u64,
        /// The value found.
        got: u64,
    },
    /// A size or work limit was exceeded by one node (e.g. a convolution's output elements or
    /// multiply-adds).
    #[error("{what} too large in {op} node `{node}`: limit {limit}, got {got}")]
    NodeTooLarge {
        /// The ONNX op type.
        op: String,
        /// The node name.
        node: String,
        /// What was measured.
        what: &'static str,
        /// The largest accepted value.
        limit: u64,
        /// The value found.
        got: u64,
    },
    /// The graph contains a cycle (ONNX graphs must be acyclic).
    #[error("graph is cyclic (node `{node}` is part of or depends on a cycle)")]
    Cyclic {
        /// A node that could not be placed in topological order.
        node: String,
    },
    /// An operator (or an operator configuration) that glassbox does not support.
    #[error("unsupported op `{op}` (node `{node}`): {reason}")]
    Unsupported {
        /// The ONNX op type (with domain if not the default one).
        op: String,
        /// The node name (or `#index` when the node has no name).
        node: String,
        /// Why it is not supported.
        reason: String,
    },
    /// The graph is structurally invalid (missing values, duplicate outputs, bad input declaration, ...).
    #[error("invalid graph: {0}")]
    InvalidGraph(String),
    /// A tensor or layer has the wrong shape.
    #[error("shape mismatch in {context}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Where the mismatch was found.
        context: String,
        /// The expected shape or size.
        expected: String,
        /// The shape or size found.
        got: String,
    },
    /// A NaN or infinite value where only finite values are allowed.
    #[error("non-finite value in {context}")]
    NonFinite {
        /// Where the value was found.
        context: String,
    },
    /// An input sample has the wrong number of features.
    #[error("wrong input length: expected {expected}, got {got}")]
    InputLength {
        /// Features the model takes.
        expected: usize,
        /// Features supplied.
        got: usize,
    },
    /// A quantized input value lies outside the int8 range `-128..=127`.
    #[error("quantized input {index} of sample {sample} is {value}, outside -128..=127")]
    InputOutOfRange {
        /// Sample index in the batch.
        sample: usize,
        /// Feature index.
        index: usize,
        /// The offending value.
        value: i64,
    },
    /// A requantized hidden activation fell outside `-65536..=65536 + 255`, the range the proof system
    /// range-checks before clamping.
    #[error("activation overflow in layer {layer}, output {index}: requantized value {value} outside -65536..=65791")]
    ActivationOverflow {
        /// Layer index (0-based).
        layer: usize,
        /// Output index within the layer.
        index: usize,
        /// The requantized value `t`.
        value: i64,
    },
    /// A quantized bias does not fit the allowed range `|b| < 2^31`.
    #[error("bias overflow in layer {layer}, output {index}: {value} does not satisfy |b| < 2^31")]
    BiasOverflow {
        /// Layer index (0-based).
        layer: usize,
        /// Output index within the layer.
        index: usize,
        /// The quantized bias.
        value: i64,
    },
    /// A requantization multiplier outside `1..2^16`.
    #[error("invalid multiplier {value} (must be in 1..=65535)")]
    InvalidMultiplier {
        /// The multiplier found.
        value: u32,
    },
    /// Integer arithmetic would overflow `i64`.
    #[error("arithmetic overflow in {context}")]
    ArithmeticOverflow {
        /// Where it happened.
        context: String,
    },
    /// A [`QuantizedModel`](crate::QuantizedModel) or [`FloatMlp`](crate::FloatMlp) is internally
    /// inconsistent.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// The artifact does not start with the `GBMODEL\0` magic bytes.
    #[error("not a glassbox model artifact (bad magic bytes)")]
    BadMagic,
    /// The artifact has a format version this build does not read.
    #[error("unsupported artifact format version: expected {expected}, got {got}")]
    UnsupportedVersion {
        /// The version this build reads.
        expected: u16,
        /// The version found.
        got: u16,
    },
    /// Bytes remain after the encoded model.
    #[error("{count} trailing bytes after the encoded model")]
    TrailingBytes {
        /// Number of extra bytes.
        count: usize,
    },
    /// postcard encoding or decoding failed.
    #[error("artifact encoding error: {0}")]
    Encoding(String),
    /// The input JSON is malformed.
    #[error("bad input JSON: {0}")]
    InputJson(String),
}

/// Shorthand for `Result<T, ModelError>`.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
