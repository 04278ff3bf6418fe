//! `glassbox-model`: the model side of glassbox.
//!
//! ONNX import into a small graph IR, a float reference executor, lowering to dense layers,
//! int8 quantization with calibration, the **integer reference executor** (the exact semantics the
//! STARK proves; see [`QuantizedModel`]), fidelity reports, the compiled-model artifact format and EZKL-style
//! input JSON.
//!
//! # Usage
//! 1. Import: [`load_onnx`] turns ONNX bytes into a [`Graph`] (constants folded, label plumbing
//!    stripped). [`Graph::run_f32`] gives float logits; [`Graph::run_f32_output`] the graph's own output
//!    (e.g. probabilities), comparable with onnxruntime.
//! 2. Lower: [`FloatMlp::from_graph`] turns a `Gemm`/`MatMul`+`Add` → `Relu` chain into dense layers.
//! 3. Quantize: [`quantize()`] with calibration samples (or documented defaults) gives a
//!    [`QuantizedModel`]; [`fidelity()`] reports float-vs-integer agreement.
//! 4. Run: [`QuantizedModel::quantize_input`] and [`QuantizedModel::run`] record every layer
//!    ([`Execution`]), bit for bit.
//! 5. Store: [`QuantizedModel::to_bytes`] / [`QuantizedModel::from_bytes`] (`GBMODEL\0` artifact).
//!
//! [`compile_onnx`] does steps 1–3 in one call:
//! ```no_run
//! # fn main() -> Result<(), glassbox_model::ModelError> {
//! let onnx = std::fs::read("fixtures/mlp_64_32_10.onnx").expect("read model");
//! let calib = glassbox_model::parse_input_json(
//!     &std::fs::read_to_string("fixtures/digits_calib.json").expect("read calibration"),
//!     Some(64),
//! )?;
//! let (model, report) = glassbox_model::compile_onnx(&onnx, Some(&calib))?;
//! let exec = model.run(&[model.quantize_input(&calib[0])?])?;
//! println!("label {} ({})", exec[0].label, report.expect("calibrated"));
//! let artifact = model.to_bytes()?;
//! # let _ = artifact; Ok(()) }
//! ```
//!
//! Library code never panics on untrusted input: every failure is a [`ModelError`].
//!
//! # Layout
//! The source is one folder per stage; only what this file re-exports is public.
//!
//! | folder | stage |
//! |---|---|
//! | `import/` | ONNX protobuf bindings, the loader, and the op registry (one file per op family) |
//! | `ir/` | the float graph, tree ensembles and linear models |
//! | `exec/` | float kernels and executor, shared work limits, the integer reference executor |
//! | `lower/` | graph → layers: dense MLPs, convolutional networks, tabular models |
//! | `quant/` | the quantized model, requantization, calibration, input encoding, fidelity |
//!
//! `artifact.rs` (the `.gbm` format), `input.rs` (input JSON) and `error.rs` sit at the top.

mod artifact;
mod error;
pub(crate) mod exec;
pub(crate) mod import;
mod input;
pub(crate) mod ir;
pub(crate) mod lower;
pub(crate) mod quant;

pub use artifact::{FORMAT_VERSION, MAGIC, MAX_ARTIFACT_BYTES};
pub use error::{ModelError, Result};
pub use exec::conv::PoolKind;
pub use exec::int::{first_argmax, Execution, LayerExecution};
pub use exec::int_layers::{accumulate, execute_layers, IntLayer, PatchOp, PatchOrder, Recorder};
pub use exec::limits::MAX_CONV_WORK;
pub use import::loader::{load_onnx, MAX_MODEL_BYTES, MAX_NODES};
/// The ONNX protobuf bindings (prost messages), for building or editing models in tests and tools.
pub use import::onnx;
pub use input::parse_input_json;
pub use ir::graph::{Graph, Node, Op, Operand, Tensor};
pub use ir::linear::LinearModel;
pub use ir::scores::{Norm, PostTransform};
pub use ir::tree::{Aggregate, BranchMode, Tree, TreeEnsemble, TreeNode, MAX_TREE_DEPTH};
pub use lower::dense::{FloatDense, FloatMlp};
/// Lowering of classic tabular models (trees, linear models) to integer layers.
pub use lower::tabular;
pub use quant::calibrate::{quantize, quantize_with_info, QuantizationInfo};
pub use quant::encoding::{InputEncoding, Projection};
pub use quant::fidelity::{fidelity, fidelity_against, FidelityReport};
pub use quant::model::{
    order_digits, ConvGeometry, PatchGeometry, QuantizedDense, QuantizedModel, MAX_PROOF_BATCH,
};
pub use quant::requant::{requantize, requantize_at, Requantized};

/// Imports, lowers and quantizes an ONNX model in one step.
///
/// With calibration samples, also returns a [`FidelityReport`] measured on those samples.
///
/// # Errors
/// Any error of [`load_onnx`], [`FloatMlp::from_graph`], [`quantize()`] or [`fidelity()`].
pub fn compile_onnx(
    bytes: &[u8],
    calibration: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, Option<FidelityReport>)> {
    compile_graph(&load_onnx(bytes)?, calibration)
}

/// Lowers and quantizes an imported graph: the part of [`compile_onnx`] after the import (what
/// `glassbox inspect` runs to say whether a model is provable).
///
/// # Errors
/// As [`compile_onnx`], but for the import.
pub fn compile_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, Option<FidelityReport>)> {
    // a Normalizer on the input becomes part of the committed encoding
    if let Some((norm, rest)) = lower::normalize::input_normalizer(graph) {
        return lower::normalize::lower_normalized(norm, &rest, calibration, compile_graph);
    }
    if let Some(lowered) = lower::tabular::lower_graph(graph, calibration)? {
        return Ok(lowered);
    }
    if let Some(lowered) = lower::convnet::lower_graph(graph, calibration)? {
        return Ok(lowered);
    }
    if let Some(lowered) = lower::pipeline::lower_graph(graph, calibration)? {
        return Ok(lowered);
    }
    let mlp = FloatMlp::from_graph(graph)?;
    // smooth activations get their tables; the fidelity is measured against the exact functions
    let (proven, activations) = lower::smooth::expand::expand(&mlp, calibration)?;
    let model = quantize(&proven, calibration)?;
    let report = match calibration.filter(|c| !c.is_empty()) {
        Some(c) => Some(FidelityReport {
            activations,
            ..fidelity(&mlp, &model, c)?
        }),
        None => None,
    };
    Ok((model, report))
}
