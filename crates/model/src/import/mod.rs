//! ONNX import: protobuf bytes → [`Graph`](crate::ir::graph::Graph).
//!
//! - [`onnx`]: the protobuf bindings (prost derives; no `protoc` at build time).
//! - [`loader`]: decodes the model with limits, refuses cyclic graphs, keeps only the nodes that feed
//!   the chosen output and folds every node whose inputs are all constants.
//! - [`registry`]: the op table. Each ONNX op type is handled by one family, one file each, and each
//!   family names the ops it handles: [`constants`] (`Constant`, and tensor decoding), [`math`]
//!   (dense and elementwise ops), [`spatial`] (Conv, pools, BatchNormalization), and [`ml`] /
//!   [`trees`] (the `ai.onnx.ml` domain). An op no family names is
//!   [`ModelError::Unsupported`](crate::ModelError::Unsupported), naming the op and the node.
//! - [`attrs`]: typed attribute access shared by every family ([`ml_attrs`]: the `ai.onnx.ml` ones).

pub(crate) mod attrs;
pub(crate) mod constants;
pub(crate) mod loader;
pub(crate) mod math;
pub(crate) mod ml;
pub(crate) mod ml_attrs;
pub mod onnx;
pub(crate) mod registry;
pub(crate) mod spatial;
pub(crate) mod svm;
pub(crate) mod trees;
mod values;
