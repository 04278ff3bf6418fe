//! `glassbox.Proof` (one `.gbp` file) and `glassbox.Bundle` (several proofs of one batch, saved
//! as `PROOF.gbp`, `PROOF.1.gbp`, … and `PROOF.bundle.json`, as `glassbox prove` writes them).

use std::path::{Path, PathBuf};

use glassbox::manifest::{write_bundle, BundleManifest};
use glassbox_air::bundle::id_hex;
use glassbox_air::{ModelDigest, ProofEnvelope, SecurityLevel};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{io, raise, InvalidProof};

/// One proof: a `.gbp` file. Unverified until `glassbox.verify` says otherwise.
#[pyclass(module = "glassbox", name = "Proof", frozen)]
pub struct Proof {
    pub(crate) envelope: ProofEnvelope,
    /// Seconds spent in the Rust prover for this proof (0 for a proof read from bytes).
    #[pyo3(get)]
    prove_seconds: f64,
}

impl Proof {
    /// Wraps a proof made `seconds` ago.
    pub fn new(envelope: ProofEnvelope, seconds: f64) -> Self {
        Self {
            envelope,
            prove_seconds: seconds,
        }
    }
}

#[pymethods]
impl Proof {
    /// Parses a proof file's bytes (the envelope only; `glassbox.verify` checks the proof).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let envelope = ProofEnvelope::from_bytes(data)
            .map_err(|e| raise::<InvalidProof>(format!("not a glassbox proof: {e}")))?;
        Ok(Self::new(envelope, 0.0))
    }

    /// Reads a `.gbp` file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Self::from_bytes(&glassbox::files::read(&path).map_err(io)?)
    }

    /// The `.gbp` bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.envelope.to_bytes())
    }

    /// Writes the `.gbp` file atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        glassbox::files::write_atomic(&path, &self.envelope.to_bytes()).map_err(io)
    }

    /// Pickles as the `.gbp` bytes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let ctor = slf.get_type().getattr("from_bytes")?;
        Ok((ctor, (slf.get().to_bytes(slf.py()),)))
    }

    /// Samples this proof holds.
    #[getter]
    fn samples(&self) -> usize {
        self.envelope.public.batch()
    }

    /// This proof's chunk index in its bundle.
    #[getter]
    fn chunk(&self) -> u32 {
        self.envelope.public.bundle.chunk
    }

    /// Chunks in its bundle (1: the proof is the whole statement).
    #[getter]
    fn chunks(&self) -> u32 {
        self.envelope.public.bundle.chunks
    }

    /// The bundle id it binds, hex.
    #[getter]
    fn bundle_id(&self) -> String {
        id_hex(&self.envelope.public.bundle.id)
    }

    /// The digest of the model it claims, hex.
    #[getter]
    fn digest(&self) -> String {
        self.envelope.public.digest().to_hex()
    }

    /// The security level it claims, in conjectured bits.
    #[getter]
    fn security_bits(&self) -> u32 {
        self.envelope.security.conjectured_bits()
    }

    fn __len__(&self) -> usize {
        self.samples()
    }

    fn __repr__(&self) -> String {
        let b = &self.envelope.public.bundle;
        format!(
            "<glassbox.Proof {} samples, chunk {} of {}, model {}…>",
            self.samples(),
            b.chunk,
            b.chunks,
            &self.digest()[..16]
        )
    }
}

/// Several proofs of one batch, chunk 0 first. `Bundle(proofs)` assembles one from the proofs
/// of every shard (`Model.prove_shard`), in chunk order; `glassbox.verify` checks it.
#[pyclass(module = "glassbox", name = "Bundle", frozen)]
pub struct Bundle {
    pub(crate) proofs: Vec<ProofEnvelope>,
    digest: ModelDigest,
    level: SecurityLevel,
    /// Seconds spent in the Rust prover for all its proofs.
    #[pyo3(get)]
    prove_seconds: f64,
}

impl Bundle {
    /// A bundle of proofs (at least one), in chunk order.
    pub fn from_envelopes(proofs: Vec<ProofEnvelope>, seconds: f64) -> PyResult<Self> {
        let first = proofs
            .first()
            .ok_or_else(|| PyValueError::new_err("a bundle holds at least one proof"))?;
        Ok(Self {
            digest: first.public.digest(),
            level: first.security,
            proofs,
            prove_seconds: seconds,
        })
    }

    /// The manifest of this bundle saved with its first proof at `first`.
    pub fn manifest_for(&self, first: &Path) -> BundleManifest {
        BundleManifest::of_proofs(first, &self.proofs, &self.digest, self.level)
    }
}

#[pymethods]
impl Bundle {
    #[new]
    fn new(proofs: Vec<PyRef<'_, Proof>>) -> PyResult<Self> {
        let seconds = proofs.iter().map(|p| p.prove_seconds).sum();
        Self::from_envelopes(proofs.iter().map(|p| p.envelope.clone()).collect(), seconds)
    }

    /// Reads a bundle manifest and its proofs (unverified).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let manifest = BundleManifest::read(&path).map_err(io)?;
        let dir = glassbox::files::dir_of(&path);
        let mut proofs = Vec::with_capacity(manifest.proofs.len());
        for e in &manifest.proofs {
            if !glassbox_verifier::audit::is_plain_file_name(&e.file) {
                return Err(raise::<InvalidProof>(format!(
                    "manifest entry `{}` is not a file name beside the manifest",
                    e.file
                )));
            }
            let bytes = glassbox::files::read(&dir.join(&e.file)).map_err(io)?;
            let envelope = ProofEnvelope::from_bytes(&bytes).map_err(|err| {
                raise::<InvalidProof>(format!("{} is not a glassbox proof: {err}", e.file))
            })?;
            proofs.push(envelope);
        }
        Self::from_envelopes(proofs, 0.0)
    }

    /// The proofs, chunk 0 first.
    #[getter]
    fn proofs(&self) -> Vec<Proof> {
        self.proofs
            .iter()
            .map(|p| Proof::new(p.clone(), 0.0))
            .collect()
    }

    /// Every proof's bytes, chunk 0 first.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyBytes>> {
        self.proofs
            .iter()
            .map(|p| PyBytes::new(py, &p.to_bytes()))
            .collect()
    }

    /// The manifest (JSON) the bundle gets when saved with its first proof at `path`.
    #[pyo3(signature = (path=None))]
    fn manifest(&self, path: Option<PathBuf>) -> String {
        let path = path.unwrap_or_else(|| "proof.gbp".into());
        self.manifest_for(&path).to_json()
    }

    /// Writes `path` (chunk 0), `path` with `.1.gbp`, `.2.gbp`, … and the manifest
    /// `.bundle.json`, each atomically; returns the manifest's path (the proof's, for a bundle
    /// of one proof).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<PathBuf> {
        let written = py
            .allow_threads(|| write_bundle(&path, &self.proofs, &self.digest, self.level))
            .map_err(io)?;
        Ok(written.manifest.unwrap_or(path))
    }

    /// Total samples.
    #[getter]
    fn samples(&self) -> usize {
        self.proofs.iter().map(|p| p.public.batch()).sum()
    }

    /// The digest of the model the proofs claim, hex.
    #[getter]
    fn digest(&self) -> String {
        self.digest.to_hex()
    }

    /// The bundle id the first proof binds, hex.
    #[getter]
    fn bundle_id(&self) -> String {
        self.proofs
            .first()
            .map(|p| id_hex(&p.public.bundle.id))
            .unwrap_or_default()
    }

    fn __len__(&self) -> usize {
        self.proofs.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<glassbox.Bundle {} proofs, {} samples, model {}…>",
            self.proofs.len(),
            self.samples(),
            &self.digest()[..16]
        )
    }
}

/// `100` or `128` as a preset.
pub fn level(bits: u32) -> PyResult<SecurityLevel> {
    match bits {
        100 => Ok(SecurityLevel::Bits100),
        128 => Ok(SecurityLevel::Bits128),
        other => Err(PyValueError::new_err(format!(
            "security must be 100 or 128, not {other}"
        ))),
    }
}
