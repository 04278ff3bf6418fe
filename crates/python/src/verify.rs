//! `glassbox.verify` and `glassbox.Claim`: what a valid proof or bundle establishes, or a typed
//! exception naming why not (the same reasons as `glassbox verify`).

use std::path::PathBuf;

use glassbox::manifest::BundleManifest;
use glassbox_air::bundle::id_hex;
use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_verifier::audit::{self, AuditError, StatedBundle};
use glassbox_verifier::Claim as Verified;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays::{float_rows, matrix, vector};
use crate::errors::{io, raise, InputError, InputMismatch, InvalidProof};
use crate::proof::{Bundle, Proof};

/// What a valid proof or bundle establishes: the committed model mapped these int8 inputs to
/// these outputs, sample by sample, in order.
#[pyclass(module = "glassbox", name = "Claim", frozen)]
pub struct Claim {
    claims: Vec<Verified>,
    /// The model digest the proofs are bound to, hex.
    #[pyo3(get)]
    digest: String,
    /// The weakest proof's conjectured security, in bits.
    #[pyo3(get)]
    security_bits: u32,
    /// Whether the proofs are a whole bundle (false for one chunk of a larger bundle, which
    /// proves only its own samples).
    #[pyo3(get)]
    whole_bundle: bool,
    /// Whether `inputs=` was given and matched.
    #[pyo3(get)]
    inputs_checked: bool,
}

#[pymethods]
impl Claim {
    /// Outputs in real units, `N×K` float64.
    #[getter]
    fn outputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let k = self
            .claims
            .first()
            .and_then(|c| c.outputs.first())
            .map_or(0, Vec::len);
        let rows = self.claims.iter().flat_map(|c| {
            let s = c.output_scale;
            c.outputs
                .iter()
                .map(move |y| y.iter().map(move |&v| v as f64 * s))
        });
        matrix(py, rows.collect::<Vec<_>>().into_iter(), k)
    }

    /// The integer outputs as proven, `N×K` int64.
    #[getter]
    fn raw_outputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let k = self
            .claims
            .first()
            .and_then(|c| c.outputs.first())
            .map_or(0, Vec::len);
        let rows: Vec<_> = self
            .claims
            .iter()
            .flat_map(|c| c.outputs.iter().cloned())
            .collect();
        matrix(py, rows.into_iter(), k)
    }

    /// Each sample's label (first maximum of its outputs), `N` int64.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        let labels = self
            .claims
            .iter()
            .flat_map(|c| c.labels())
            .map(|l| l as i64);
        vector(py, labels.collect())
    }

    /// The proven int8 inputs, `N×F` int8.
    #[getter]
    fn inputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let f = self
            .claims
            .first()
            .and_then(|c| c.inputs.first())
            .map_or(0, Vec::len);
        let rows: Vec<Vec<i8>> = self
            .claims
            .iter()
            .flat_map(|c| {
                c.inputs
                    .iter()
                    .map(|x| x.iter().map(|&v| v as i8).collect())
            })
            .collect();
        matrix(py, rows.into_iter(), f)
    }

    /// Number of samples.
    #[getter]
    fn samples(&self) -> usize {
        self.claims.iter().map(|c| c.inputs.len()).sum()
    }

    /// Number of proofs.
    #[getter]
    fn proofs(&self) -> usize {
        self.claims.len()
    }

    /// The bundle id the proofs bind, hex.
    #[getter]
    fn bundle_id(&self) -> String {
        self.claims
            .first()
            .map(|c| id_hex(&c.bundle.id))
            .unwrap_or_default()
    }

    /// Index of the first sample in the bundle (0 unless this is one chunk of a larger one).
    #[getter]
    fn first_sample(&self) -> u32 {
        self.claims.first().map_or(0, |c| c.bundle.first_sample)
    }

    fn __len__(&self) -> usize {
        self.samples()
    }

    fn __repr__(&self) -> String {
        format!(
            "<glassbox.Claim VALID: {} samples in {} proof(s), model {}…, {} bits{}>",
            self.samples(),
            self.claims.len(),
            &self.digest[..16],
            self.security_bits,
            if self.whole_bundle {
                ""
            } else {
                ", one chunk of a larger bundle"
            }
        )
    }
}

/// An auditor's rejection as an exception: a mismatch of inputs, a usage error, or a bundle or
/// manifest that is not what its proofs prove.
fn audit_error(e: AuditError) -> PyErr {
    match e {
        e if e.is_usage() => raise::<InputError>(format!("inputs: {e}")),
        AuditError::SampleCount { .. }
        | AuditError::FeatureCount { .. }
        | AuditError::Value { .. }
        | AuditError::BundleOfOtherInputs { .. } => raise::<InputMismatch>(e.to_string()),
        e => raise::<InvalidProof>(e.to_string()),
    }
}

/// Verifies a proof (a `Proof`, its bytes, or a `.gbp` path) or a bundle (a `Bundle` or a
/// `.bundle.json` manifest path) against the published `digest`. With `inputs` (the auditor's
/// raw features, `N×…`), the proven int8 inputs must be exactly their committed encoding.
/// Returns a `Claim`; raises `InvalidProof` (or `InputMismatch`) with the reason otherwise.
#[pyfunction]
#[pyo3(signature = (proof, digest, inputs=None, min_security=100))]
pub fn verify(
    py: Python<'_>,
    proof: &Bound<'_, PyAny>,
    digest: &str,
    inputs: Option<&Bound<'_, PyAny>>,
    min_security: u32,
) -> PyResult<Claim> {
    let digest = ModelDigest::from_hex(digest).ok_or_else(|| {
        PyValueError::new_err(format!(
            "malformed digest `{digest}`: expected 64 hex characters"
        ))
    })?;
    if SecurityLevel::at_least(min_security).is_none() {
        return Err(PyValueError::new_err(format!(
            "min_security {min_security}: no preset reaches it (the strongest is {} bits)",
            SecurityLevel::Bits128.conjectured_bits()
        )));
    }
    let raw = inputs.map(|x| float_rows(x, None)).transpose()?;
    let raw = raw.as_deref();
    if let Ok(bundle) = proof.downcast::<Bundle>() {
        let bundle = bundle.get();
        let bytes: Vec<Vec<u8>> = bundle.proofs.iter().map(|p| p.to_bytes()).collect();
        let manifest = bundle.manifest_for(std::path::Path::new("proof.gbp"));
        let outcomes = py.allow_threads(|| {
            bytes
                .iter()
                .map(|b| {
                    glassbox_verifier::verify(b, &digest, min_security).map_err(|e| e.to_string())
                })
                .collect::<Vec<_>>()
        });
        return check_bundle(&manifest, &digest, outcomes, raw);
    }
    let bytes: Vec<u8> = if let Ok(p) = proof.downcast::<Proof>() {
        p.get().envelope.to_bytes()
    } else if let Ok(b) = proof.downcast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else {
        let path: PathBuf = proof.extract().map_err(|_| {
            PyValueError::new_err("proof must be a Proof, a Bundle, bytes or a file path")
        })?;
        if path.to_string_lossy().ends_with(".bundle.json") {
            let manifest = BundleManifest::read(&path).map_err(|e| match e {
                glassbox::manifest::ManifestError::Read { .. } => io(e),
                e => raise::<InvalidProof>(e.to_string()),
            })?;
            let dir = glassbox::files::dir_of(&path);
            let outcomes = py.allow_threads(|| manifest.verify_listed(&dir, &digest, min_security));
            return check_bundle(&manifest, &digest, outcomes, raw);
        }
        glassbox::files::read(&path).map_err(io)?
    };
    let claim = py
        .allow_threads(|| glassbox_verifier::verify(&bytes, &digest, min_security))
        .map_err(|e| raise::<InvalidProof>(e.to_string()))?;
    if let Some(raw) = raw {
        audit::check_inputs(&claim, raw).map_err(audit_error)?;
    }
    Ok(Claim {
        digest: claim.digest.to_hex(),
        security_bits: claim.security_bits,
        whole_bundle: claim.is_whole_bundle(),
        inputs_checked: raw.is_some(),
        claims: vec![claim],
    })
}

/// The bundle's verdict from its proofs' outcomes (in manifest order) and the manifest.
fn check_bundle(
    manifest: &BundleManifest,
    digest: &ModelDigest,
    outcomes: Vec<Result<Verified, String>>,
    raw: Option<&[Vec<f32>]>,
) -> PyResult<Claim> {
    let stated: StatedBundle<'_> = manifest
        .stated()
        .map_err(|e| raise::<InvalidProof>(e.to_string()))?;
    let mut claims = Vec::with_capacity(outcomes.len());
    for (entry, outcome) in manifest.proofs.iter().zip(outcomes) {
        claims.push(outcome.map_err(|e| raise::<InvalidProof>(format!("{}: {e}", entry.file)))?);
    }
    match audit::check_stated_bundle(&stated, digest, claims, raw) {
        (Some(bundle), Ok(())) => Ok(Claim {
            digest: bundle.digest.to_hex(),
            security_bits: bundle.security_bits,
            whole_bundle: true,
            inputs_checked: raw.is_some(),
            claims: bundle.claims,
        }),
        (_, Err(e)) => Err(audit_error(e)),
        (None, Ok(())) => Err(raise::<InvalidProof>("the bundle lists no proofs")),
    }
}
