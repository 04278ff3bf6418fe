//! Compiling an ONNX model into what the CLI's `compile` and Python's `glassbox.compile` both
//! produce: the quantized model (the `.gbm`), its program (digest and layout) and, with
//! calibration samples, the fidelity report.

use glassbox_model::{FidelityReport, ModelError, QuantizedModel};
use glassbox_trace::{CompileError, Program};

/// A compiled model.
pub struct Compiled {
    /// The quantized model, stored as the `.gbm` artifact.
    pub model: QuantizedModel,
    /// Its program: the digest and the proof layout.
    pub program: Program,
    /// Float-vs-integer agreement on the calibration samples, when given.
    pub fidelity: Option<FidelityReport>,
}

/// Why a model does not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileModelError {
    /// The ONNX model cannot be imported, lowered or quantized.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model does not fit a provable layout (with `proof_batch` samples per proof, if set).
    #[error("{}: {source}", match proof_batch {
        Some(k) => format!("the model cannot hold {k} samples per proof"),
        None => "the model does not fit a provable layout".into(),
    })]
    Layout {
        /// The samples per proof asked for.
        proof_batch: Option<u32>,
        /// Why.
        source: CompileError,
    },
}

/// Imports, quantizes (calibrated on `calibration`, with a fidelity report on it) and lays out
/// an ONNX model, its trace sized for `proof_batch` samples per proof when given.
///
/// # Errors
/// [`CompileModelError`].
pub fn compile(
    onnx: &[u8],
    calibration: Option<&[Vec<f32>]>,
    proof_batch: Option<u32>,
) -> Result<Compiled, CompileModelError> {
    let (mut model, fidelity) = glassbox_model::compile_onnx(onnx, calibration)?;
    model.proof_batch = proof_batch;
    let program = Program::compile(&model).map_err(|source| CompileModelError::Layout {
        proof_batch,
        source,
    })?;
    Ok(Compiled {
        model,
        program,
        fidelity,
    })
}
