//! `glassbox.compile`: ONNX (a path or bytes) to a calibrated int8 `Model`.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays::float_rows;
use crate::errors::{io, raise, ModelError};
use crate::model::Model;

/// Compiles an ONNX model (a path or the file's bytes) to int8, calibrated on `calibrate`
/// (samples × features; also measures fidelity), sized for `proof_batch` samples per proof.
#[pyfunction]
#[pyo3(signature = (onnx, calibrate=None, proof_batch=None))]
pub fn compile(
    py: Python<'_>,
    onnx: &Bound<'_, PyAny>,
    calibrate: Option<&Bound<'_, PyAny>>,
    proof_batch: Option<u32>,
) -> PyResult<Model> {
    let bytes: Vec<u8> = match onnx.extract::<Vec<u8>>() {
        Ok(b) if onnx.is_instance_of::<PyBytes>() => b,
        _ => {
            let path: PathBuf = onnx.extract()?;
            glassbox::files::read(&path).map_err(io)?
        }
    };
    let calibration = calibrate.map(|c| float_rows(c, None)).transpose()?;
    if proof_batch == Some(0) || proof_batch.is_some_and(|k| k > glassbox_model::MAX_PROOF_BATCH) {
        return Err(PyValueError::new_err(format!(
            "proof_batch must be in 1..={}",
            glassbox_model::MAX_PROOF_BATCH
        )));
    }
    py.allow_threads(|| glassbox::compile(&bytes, calibration.as_deref(), proof_batch))
        .map_err(|e| match e {
            glassbox::CompileModelError::Model(e) => format!("cannot compile the model: {e}"),
            e => e.to_string(),
        })
        .map(|c| Model::new(c.model, c.program, c.fidelity))
        .map_err(raise::<ModelError>)
}
