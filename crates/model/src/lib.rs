//! `glassbox-model`: the model side of glassbox.
//!
//! ONNX import into a small graph IR, a float reference executor, lowering to dense layers,
//! int8 quantization with calibration, the **integer reference executor** (the exact semantics the
//! STARK proves; see [`quant`]), fidelity reports, the compiled-model artifact format and EZKL-style
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

pub mod artifact;
pub mod classic;
pub mod conv;
pub mod convnet;
pub mod dense;
pub mod encoding;
pub mod error;
pub mod fidelity;
pub mod float_exec;
pub mod graph;
pub mod import;
pub mod input;
pub mod int_exec;
pub mod onnx;
pub mod quant;
pub mod tabular;

pub use artifact::{FORMAT_VERSION, MAGIC};
pub use classic::{
    Aggregate, BranchMode, LinearModel, Norm, PostTransform, Tree, TreeEnsemble, TreeNode,
    MAX_TREE_DEPTH,
};
pub use conv::{PoolKind, MAX_CONV_WORK};
pub use dense::{FloatDense, FloatMlp};
pub use encoding::InputEncoding;
pub use error::{ModelError, Result};
pub use fidelity::{fidelity, fidelity_against, FidelityReport};
pub use graph::{Graph, Node, Op, Operand, Tensor};
pub use import::{load_onnx, MAX_MODEL_BYTES, MAX_NODES};
pub use input::parse_input_json;
pub use int_exec::{first_argmax, Execution, LayerExecution};
pub use quant::{
    quantize, quantize_with_info, requantize, requantize_at, ConvGeometry, QuantizationInfo,
    QuantizedDense, QuantizedModel, Requantized, MAX_PROOF_BATCH,
};

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
    let graph = load_onnx(bytes)?;
    if let Some(lowered) = tabular::lower_graph(&graph, calibration)? {
        return Ok(lowered);
    }
    if let Some(lowered) = convnet::lower_graph(&graph, calibration)? {
        return Ok(lowered);
    }
    let mlp = FloatMlp::from_graph(&graph)?;
    let model = quantize(&mlp, calibration)?;
    let report = match calibration.filter(|c| !c.is_empty()) {
        Some(c) => Some(fidelity(&mlp, &model, c)?),
        None => None,
    };
    Ok((model, report))
}
