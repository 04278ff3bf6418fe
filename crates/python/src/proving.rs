//! Proving a range of a bundle's chunks from Python: the GIL released for each proof, Ctrl-C
//! checked between proofs, progress reported to `glassbox._progress`.

use std::ops::Range;
use std::time::Instant;

use glassbox::BundlePlan;
use glassbox_air::{ProofEnvelope, SecurityLevel};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{raise, ProvingError};
use crate::model::Model;

impl Model {
    /// Proves chunks `range` of `plan`, releasing the GIL for each proof and checking for
    /// Ctrl-C between them; returns the proofs and the seconds spent in the Rust prover.
    pub(crate) fn prove_range(
        &self,
        py: Python<'_>,
        inputs: &[Vec<i64>],
        plan: &BundlePlan,
        range: Range<usize>,
        level: SecurityLevel,
        progress: Option<bool>,
    ) -> PyResult<(Vec<ProofEnvelope>, f64)> {
        let bar = py.import("glassbox._progress")?.call_method1(
            "start",
            (
                range.len(),
                format!("proving {} samples", inputs.len()),
                progress,
            ),
        )?;
        let mut proofs = Vec::with_capacity(range.len());
        let mut seconds = 0.0;
        let result = (|| {
            for k in range {
                let start = Instant::now();
                let proof = py
                    .allow_threads(|| plan.prove_chunk(&self.program, inputs, k, level))
                    .map_err(|e| raise::<ProvingError>(e.to_string()))?;
                seconds += start.elapsed().as_secs_f64();
                proofs.push(proof);
                if !bar.is_none() {
                    bar.call_method1("update", (1,))?;
                }
                py.check_signals()?;
            }
            Ok::<_, PyErr>(())
        })();
        if !bar.is_none() {
            bar.call_method0("close")?;
        }
        result.map(|()| (proofs, seconds))
    }

    /// The plan for `inputs`: `per_proof` samples per proof (default: what one proof holds).
    pub(crate) fn plan(
        &self,
        py: Python<'_>,
        inputs: &[Vec<i64>],
        per_proof: Option<usize>,
    ) -> PyResult<BundlePlan> {
        if per_proof == Some(0) {
            return Err(PyValueError::new_err("per_proof must be at least 1"));
        }
        let per = per_proof.unwrap_or(self.program.max_batch());
        Ok(py.allow_threads(|| BundlePlan::new(&self.program, inputs, per)))
    }
}
