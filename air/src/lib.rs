//! The glassbox AIR: what a glassbox proof proves, shared by the prover and the verifier.
//!
//! A glassbox proof shows that a committed, quantized neural network maps public inputs to public
//! outputs. This crate holds everything both sides must agree on:
//!
//! 1. [`ModelDescriptor`]: the public part of a compiled model (shapes, requantization
//!    multipliers, biases, the trace length its layout uses) and the [`ModelDigest`] that commits
//!    to it together with the weights.
//! 2. [`Layout`]: which trace column holds what, derived from the descriptor and a batch size.
//! 3. [`InferenceAir`]: the constraints (matrix products checked by a randomized identity,
//!    requantization with ReLU, LogUp range checks).
//! 4. [`commitment`]: the Merkle commitment to the weight columns' low-degree extension, opened at
//!    winterfell's query positions ([`query_positions`]).
//! 5. [`PublicInputs`] (with the proof's [`BundlePosition`]), [`ProofEnvelope`] (the proof file
//!    format) and [`SecurityLevel`] presets.
//!
//! `no_std` + `alloc`; depends on the `winter-*` crates only.
//!
//! This file is the facade only: it declares the modules and re-exports what the other crates
//! use. Nothing in the crate imports from it; the bounds live in [`limits`] and the field in
//! [`field`], two leaves every other file may use.
#![no_std]
#![deny(clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod air;
pub mod bundle;
mod challenges;
pub mod commitment;
pub mod conv;
mod descriptor;
mod digest;
mod encoding;
mod envelope;
pub mod field;
mod frame;
mod layout;
pub mod limits;
pub mod normalize;
mod options;
mod periodic;
pub mod projection;
mod public;
mod queries;
mod runs;
mod sink;
pub mod table;
pub mod units;

pub use air::InferenceAir;
pub use bundle::{bundle_id, BundlePosition};
pub use challenges::{counter_column, trace_info, Challenges};
pub use commitment::{WeightCommitment, WeightOpening};
pub use conv::{ConvDims, ConvShape, Digit};
pub use descriptor::{DescriptorError, LayerDescriptor, ModelDescriptor};
pub use digest::ModelDigest;
pub use encoding::{encode_symmetric, EncodeError, EncodingError, InputEncoding};
pub use envelope::{EnvelopeError, ProofEnvelope, ENVELOPE_MAGIC, ENVELOPE_VERSION};
pub use field::{felt_from_i64, felt_to_i64, Felt};
pub use layout::{
    ActivationCells, AuxLayout, Counter, LayerLayout, Layout, LookupValue, RegionKind,
    RegionLayout, TableColumns, ACT_C, ACT_CELLS, ACT_D0, ACT_D1, ACT_R0, ACT_R1, ACT_X,
    SKETCH_COLUMNS,
};
pub use limits::{
    ACT_MAX, MAX_CUTS_PER_FEATURE, MAX_KERNEL, MAX_MULTIPLIER, MAX_PROJECTION_ENTRIES,
    MAX_PROOF_BYTES, MAX_VERIFIER_WORK, RANGE_TABLE_SIZE, REQUANT_SHIFT, T_MAX, T_MIN,
};
pub use normalize::Norm;
pub use options::SecurityLevel;
pub use projection::Projection;
pub use public::PublicInputs;
pub use queries::{query_positions, QueryError};
pub use table::ActivationTable;
pub use units::lookup::{lookup_key, lookup_value, table_key};
pub use units::product::{
    accumulator_row_sum, input_row_sum, inverse_multipliers, weight_row_sum, weight_step,
};
pub use units::requant::{accumulator, activation};

pub use winter_air::proof::{Context as ProofContext, Proof};
