//! `glassbox.Model`: a compiled model, its digest and capacity, integer inference, and proving
//! (one proof, a bundle, or one shard of a bundle; the loop is in `proving.rs`).

use std::path::PathBuf;

use glassbox::Shard;
use glassbox_model::{FidelityReport, QuantizedModel};
use glassbox_trace::Program;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::arrays::{map_rows, matrix, vector};
use crate::errors::{io, raise, InputError, ModelError};
use crate::proof::{level, Bundle, Proof};

/// A compiled model: the `.gbm` artifact, its digest and its proof layout.
#[pyclass(module = "glassbox", name = "Model", frozen)]
pub struct Model {
    pub(crate) model: QuantizedModel,
    pub(crate) program: Program,
    fidelity: Option<FidelityReport>,
}

impl Model {
    /// A compiled model, as `glassbox::compile` returns it.
    pub(crate) fn new(
        model: QuantizedModel,
        program: Program,
        fidelity: Option<FidelityReport>,
    ) -> Self {
        Self {
            model,
            program,
            fidelity,
        }
    }

    /// The batch quantized to the model's int8 inputs, straight from numpy's buffer.
    pub(crate) fn quantize(&self, x: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<i64>>> {
        map_rows(x, Some(self.model.raw_input_len()), |i, row| {
            self.model
                .quantize_input(row)
                .map_err(|e| raise::<InputError>(format!("sample {i}: {e}")))
        })
    }
}

#[pymethods]
impl Model {
    /// Reads a `.gbm` file (as `glassbox compile` writes it).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Self::from_bytes(&glassbox::files::read(&path).map_err(io)?)
    }

    /// Parses `.gbm` bytes.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let model = QuantizedModel::from_bytes(data)
            .map_err(|e| raise::<ModelError>(format!("not a compiled glassbox model: {e}")))?;
        let program = Program::compile(&model).map_err(|e| {
            raise::<ModelError>(format!("the model does not fit a provable layout: {e}"))
        })?;
        Ok(Self::new(model, program, None))
    }

    /// The `.gbm` artifact's bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self
            .model
            .to_bytes()
            .map_err(|e| raise::<ModelError>(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the `.gbm` artifact atomically (the same file as `glassbox compile -o`).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let bytes = self.to_bytes(py)?;
        glassbox::files::write_atomic(&path, bytes.as_bytes()).map_err(io)
    }

    /// Pickles as the `.gbm` bytes (for Ray and multiprocessing).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let ctor = slf.get_type().getattr("from_bytes")?;
        Ok((ctor, (slf.get().to_bytes(slf.py())?,)))
    }

    /// The model digest, 64 hex characters: what verifiers are given.
    #[getter]
    fn digest(&self) -> String {
        self.program.digest().to_hex()
    }

    /// Raw values per sample (what `prove` and `run` take; a projected encoding's map may
    /// change the width the proof is about).
    #[getter]
    fn input_len(&self) -> usize {
        self.model.raw_input_len()
    }

    /// Outputs per sample.
    #[getter]
    fn output_len(&self) -> usize {
        self.model.output_len()
    }

    /// `(inputs, outputs)` of every layer.
    #[getter]
    fn layers(&self) -> Vec<(usize, usize)> {
        self.model
            .layers
            .iter()
            .map(|l| (l.n_in, l.n_out))
            .collect()
    }

    /// Most samples one proof holds.
    #[getter]
    fn max_batch(&self) -> usize {
        self.program.max_batch()
    }

    /// The `proof_batch` the model was compiled for, if any.
    #[getter]
    fn proof_batch(&self) -> Option<u32> {
        self.model.proof_batch
    }

    /// The trace of a one-sample proof: `{"rows", "main_columns", "aux_columns"}`.
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let l = self
            .program
            .layout(1)
            .map_err(|e| raise::<ModelError>(e.to_string()))?;
        let d = PyDict::new(py);
        d.set_item("rows", l.trace_len)?;
        d.set_item("main_columns", l.main_width)?;
        d.set_item("aux_columns", l.aux.width)?;
        Ok(d)
    }

    /// Float-vs-integer agreement on the calibration samples (`None` without calibration, or
    /// for a model loaded from a file), with each smooth activation's table under
    /// `activations` (`layer`, `function`, `segments`, `range`, `max_error`, `mean_error`).
    #[getter]
    fn fidelity<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(r) = &self.fidelity else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("samples", r.samples)?;
        d.set_item("argmax_agreement", r.argmax_agreement)?;
        d.set_item("max_abs_error", r.max_abs_error)?;
        d.set_item("mean_abs_error", r.mean_abs_error)?;
        let activations = PyList::empty(py);
        for a in &r.activations {
            let item = PyDict::new(py);
            item.set_item("layer", a.layer)?;
            item.set_item("function", &a.function)?;
            item.set_item("segments", a.segments)?;
            item.set_item("range", a.range)?;
            item.set_item("max_error", a.error.max)?;
            item.set_item("mean_error", a.error.mean)?;
            activations.append(item)?;
        }
        d.set_item("activations", activations)?;
        Ok(Some(d))
    }

    /// Integer inference, no proof: `(outputs, labels)`, outputs in real units (`N×K`
    /// float64), labels the first maximum of each row (`N` int64).
    fn run<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let inputs = self.quantize(x)?;
        let execs = py
            .allow_threads(|| self.model.run(&inputs))
            .map_err(|e| raise::<InputError>(e.to_string()))?;
        let scale = self.model.output_scale;
        let k = self.model.output_len();
        let outputs = matrix(
            py,
            execs
                .iter()
                .map(|e| e.outputs.iter().map(move |&v| v as f64 * scale)),
            k,
        )?;
        let labels = vector(py, execs.iter().map(|e| e.label as i64).collect());
        Ok((outputs, labels))
    }

    /// Proves the model's outputs on the batch `x` (any size): a `Proof` when one proof holds
    /// it, else a `Bundle` of proofs of `per_proof` samples (default: what one proof holds).
    /// Releases the GIL while proving; Ctrl-C stops between proofs; writes nothing.
    #[pyo3(signature = (x, security=100, per_proof=None, progress=None))]
    fn prove(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        security: u32,
        per_proof: Option<usize>,
        progress: Option<bool>,
    ) -> PyResult<PyObject> {
        let level = level(security)?;
        let inputs = self.quantize(x)?;
        let plan = self.plan(py, &inputs, per_proof)?;
        let (mut proofs, seconds) =
            self.prove_range(py, &inputs, &plan, 0..plan.chunks(), level, progress)?;
        if proofs.len() == 1 {
            let envelope = proofs.remove(0);
            return Ok(Proof::new(envelope, seconds)
                .into_pyobject(py)?
                .into_any()
                .unbind());
        }
        let bundle = Bundle::from_envelopes(proofs, seconds)?;
        Ok(bundle.into_pyobject(py)?.into_any().unbind())
    }

    /// Proves shard `index` of `count` of the bundle of `x` (as `glassbox prove --shard
    /// index/count`): the proofs of its contiguous range of chunks, each binding the whole
    /// batch's bundle id. `Bundle(proofs of every shard, in order)` assembles the bundle.
    #[pyo3(signature = (x, index, count, security=100, per_proof=None))]
    fn prove_shard(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        index: usize,
        count: usize,
        security: u32,
        per_proof: Option<usize>,
    ) -> PyResult<Vec<Proof>> {
        let level = level(security)?;
        let shard = Shard::new(index, count).map_err(PyValueError::new_err)?;
        let inputs = self.quantize(x)?;
        let plan = self.plan(py, &inputs, per_proof)?;
        let range = shard.chunks(plan.chunks());
        let (proofs, seconds) = self.prove_range(py, &inputs, &plan, range, level, Some(false))?;
        let each = seconds / proofs.len().max(1) as f64;
        Ok(proofs.into_iter().map(|p| Proof::new(p, each)).collect())
    }

    fn __repr__(&self) -> String {
        let shapes: Vec<String> = self
            .model
            .layers
            .iter()
            .map(|l| format!("{}→{}", l.n_in, l.n_out))
            .collect();
        format!(
            "<glassbox.Model {} digest={}… max_batch={}>",
            shapes.join(", "),
            &self.digest()[..16],
            self.max_batch()
        )
    }
}
