//! Every bound the statement, the trace and the proof format rely on, in one place.
//!
//! A leaf: it imports nothing from the crate, so any file may use it without creating an
//! import cycle (`lib.rs` only re-exports it).

// ---- activations and the range table ---------------------------------------------------------

/// Largest activation value after ReLU and saturation (activations are 8-bit unsigned).
pub const ACT_MAX: i64 = 255;
/// Requantization fixed-point shift: `acc·M + 2^15 = t·2^16 + r`.
pub const REQUANT_SHIFT: u32 = 16;
/// Smallest requantized value `t` a proof accepts: a negative `t` is range-checked as
/// `−t − 1 < 2^16` (two 8-bit limbs).
pub const T_MIN: i64 = -(1 << 16);
/// Largest requantized value `t` a proof accepts: a saturated `t` is range-checked as
/// `t − ACT_MAX − 1 < 2^16`.
pub const T_MAX: i64 = (1 << 16) + ACT_MAX;
/// Size of the LogUp range table: values `0..RANGE_TABLE_SIZE`.
pub const RANGE_TABLE_SIZE: usize = 256;

// ---- model descriptors -----------------------------------------------------------------------

/// Largest supported trace length (2^20 rows).
pub const MAX_TRACE_LEN: usize = 1 << 20;
/// Largest supported layer dimension.
pub const MAX_DIM: usize = 1 << 16;
/// Largest supported number of layers.
pub const MAX_LAYERS: usize = 16;
/// Biases must satisfy `|b| < MAX_BIAS`.
pub const MAX_BIAS: i64 = 1 << 31;
/// Requantization multipliers must satisfy `1 <= M < MAX_MULTIPLIER` (2^24).
///
/// The requantization unit checks `acc·M + 2^15 = t·2^16 + r` in the field. It is an integer
/// equation because both sides are far below `p/2`: `|acc| < MAX_DIM·127·255 + MAX_BIAS < 2^32`
/// (`2^16·127·255 < 2^31`),
/// so `|acc·M| < 2^56`, and the range checks bound `|t·2^16 + r| < 2^34`. Multipliers of 2^16 and
/// above turn a layer into a step (`M = 255·2^16` maps `acc >= 1` to 255 and `acc <= 0` to 0),
/// which is how decision-tree comparisons are proven.
pub const MAX_MULTIPLIER: u32 = 1 << 24;
/// Most split thresholds one feature may have under the threshold input encoding (codes
/// `0..=2·127` fit the int8 input range after the `−128` shift).
pub const MAX_CUTS_PER_FEATURE: usize = 127;
/// Most coefficients the affine map of a projected input encoding may have (raw features ×
/// encoded features): 64 KiB of `f64`s in every proof file at most.
pub const MAX_PROJECTION_ENTRIES: usize = 1 << 13;
/// Largest magnitude of a projection coefficient or offset (`2^64`): with inputs below `2^128`
/// and at most [`MAX_PROJECTION_ENTRIES`] terms, no binary64 product or sum can overflow.
pub const MAX_PROJECTION_MAGNITUDE: f64 = 18_446_744_073_709_551_616.0;
/// Largest kernel side of a stencil layer.
pub const MAX_KERNEL: usize = 7;

// ---- the trace and the statement -------------------------------------------------------------

/// Independent weight sketches the digest carries (two main columns each).
pub const SKETCHES: usize = 2;
/// Most columns (main + auxiliary) a proof may have: winterfell builds traces of up to 255
/// columns, but its proof reader refuses a full width of 255 itself.
pub const MAX_WIDTH: usize = 254;
/// Bound on `Layout::verifier_work`: a statement that would make the verifier do more field
/// operations than this (about a second) is refused before any proof is parsed. Honest layouts
/// of the fixtures stay below 2^19.
pub const MAX_VERIFIER_WORK: usize = 1 << 24;
/// Largest magnitude an output may have (keeps integers far from `p/2`).
pub const MAX_OUTPUT: i64 = 1 << 62;

// ---- proof files -----------------------------------------------------------------------------

/// Largest proof file accepted (8 MiB).
pub const MAX_PROOF_BYTES: usize = 8 << 20;
/// Largest batch one envelope may claim.
pub const MAX_BATCH: usize = 1 << 16;
