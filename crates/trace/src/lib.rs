//! Compiles quantized models into glassbox programs and generates their execution traces.
//!
//! # Usage
//! 1. [`Program::compile`] turns a [`QuantizedModel`] into a [`Program`]: the model's public
//!    [`ModelDescriptor`], its weights, and the trace length its layout uses. The choice is
//!    deterministic, so the same model always gets the same [`ModelDigest`](Program::digest).
//! 2. [`Program::execute`] runs a batch through the integer semantics (the same as
//!    `glassbox_model`'s reference executor) and records every value the AIR checks.
//! 3. [`Program::trace`] lays a recorded batch out as trace columns plus the public inputs.
//!
//! The auxiliary (randomized) columns are built by the prover from these main columns.
//!
//! [`ModelDescriptor`]: glassbox_air::ModelDescriptor

mod error;
mod exec;
mod extension;
mod program;
mod trace;
mod weights;

pub use error::CompileError;
pub use exec::{requantize, BatchExecution, Requantized};
pub use extension::{read_segment_row, WeightExtension, SEGMENT_WIDTH};
pub use program::{Program, DEFAULT_PROOF_BATCH};
pub use trace::Trace;
pub use weights::weight_leaves;

pub use glassbox_model::QuantizedModel;
