//! The bundle manifest (`PROOF.bundle.json`): what `glassbox prove` writes beside a bundle's
//! proofs, and how its listed proofs are read and verified. The CLI and the Python package both
//! use this module, so they write and accept the same files.
//!
//! ```json
//! {"digest": "923d…", "security_bits": 102, "samples": 540,
//!  "proofs": [{"file": "day.gbp", "samples": 72}, {"file": "day.1.gbp", "samples": 72}, …]}
//! ```

use std::path::{Path, PathBuf};

use glassbox_air::{ModelDigest, ProofEnvelope, SecurityLevel};
use glassbox_verifier::audit::{self, StatedBundle};
use glassbox_verifier::Claim;
use serde::{Deserialize, Serialize};

use crate::files::{self, FilesError};

/// Why a manifest cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("cannot read bundle manifest {}: {source}", path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a manifest.
    #[error("malformed bundle manifest: {0}")]
    Malformed(String),
}

/// One proof of a bundle manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The proof's file name, beside the manifest.
    pub file: String,
    /// Samples the proof holds.
    pub samples: usize,
}

/// A bundle manifest: the model, the security level, the total and the proofs in chunk order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// The model digest, 64 hex characters.
    pub digest: String,
    /// Conjectured security of every proof.
    pub security_bits: u32,
    /// Total samples.
    pub samples: usize,
    /// The proofs, chunk 0 first.
    pub proofs: Vec<ManifestEntry>,
}

impl BundleManifest {
    /// The manifest of `proofs` (chunk 0 first) written as the files [`files::bundle_paths`]
    /// names for `first`.
    pub fn of_proofs(
        first: &Path,
        proofs: &[ProofEnvelope],
        digest: &ModelDigest,
        level: SecurityLevel,
    ) -> Self {
        let names = files::bundle_paths(first, proofs.len());
        Self {
            digest: digest.to_hex(),
            security_bits: level.conjectured_bits(),
            samples: proofs.iter().map(|p| p.public.batch()).sum(),
            proofs: names
                .iter()
                .zip(proofs)
                .map(|(path, p)| ManifestEntry {
                    file: file_name(path),
                    samples: p.public.batch(),
                })
                .collect(),
        }
    }

    /// Parses a manifest.
    ///
    /// # Errors
    /// [`ManifestError::Malformed`].
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        serde_json::from_str(text).map_err(|e| ManifestError::Malformed(e.to_string()))
    }

    /// Reads and parses a manifest file.
    ///
    /// # Errors
    /// [`ManifestError`].
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The digest the manifest names.
    ///
    /// # Errors
    /// [`ManifestError::Malformed`] unless it is 64 hex characters.
    pub fn model_digest(&self) -> Result<ModelDigest, ManifestError> {
        ModelDigest::from_hex(&self.digest).ok_or_else(|| {
            ManifestError::Malformed(format!("digest `{}` is not 64 hex characters", self.digest))
        })
    }

    /// What the manifest states, for [`audit::check_stated_bundle`].
    ///
    /// # Errors
    /// As [`Self::model_digest`].
    pub fn stated(&self) -> Result<StatedBundle<'_>, ManifestError> {
        Ok(StatedBundle {
            digest: self.model_digest()?,
            samples: self.samples,
            security_bits: self.security_bits,
            files: self.proofs.iter().map(|e| e.file.as_str()).collect(),
        })
    }

    /// Reads and verifies every listed proof (files beside the manifest, in `dir`) against
    /// `digest`, and checks each one's listed sample count: one outcome per entry, the reason
    /// as the CLI prints it.
    pub fn verify_listed(
        &self,
        dir: &Path,
        digest: &ModelDigest,
        min_security: u32,
    ) -> Vec<Result<Claim, String>> {
        self.proofs
            .iter()
            .map(|e| verify_entry(dir, e, digest, min_security))
            .collect()
    }
}

/// Reads and verifies one listed proof, and checks its sample count against the manifest.
fn verify_entry(
    dir: &Path,
    entry: &ManifestEntry,
    digest: &ModelDigest,
    min_security: u32,
) -> Result<Claim, String> {
    if !audit::is_plain_file_name(&entry.file) {
        return Err(format!(
            "manifest entry `{}` is not a file name beside the manifest",
            entry.file
        ));
    }
    let path = dir.join(&entry.file);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let claim =
        glassbox_verifier::verify(&bytes, digest, min_security).map_err(|e| e.to_string())?;
    audit::check_listed_samples(&entry.file, entry.samples, &claim).map_err(|e| e.to_string())?;
    Ok(claim)
}

/// A path's file name as text.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What [`write_bundle`] wrote.
#[derive(Clone, Debug)]
pub struct WrittenBundle {
    /// The proof files, chunk 0 first.
    pub paths: Vec<PathBuf>,
    /// Their sizes in bytes.
    pub sizes: Vec<usize>,
    /// The manifest, when there is more than one proof.
    pub manifest: Option<PathBuf>,
}

/// Writes a bundle's proofs (chunk 0 to `first`, then [`files::bundle_paths`]) and, for more
/// than one proof, its manifest `PROOF.bundle.json`, last; every file atomically.
///
/// # Errors
/// The first [`FilesError`].
pub fn write_bundle(
    first: &Path,
    proofs: &[ProofEnvelope],
    digest: &ModelDigest,
    level: SecurityLevel,
) -> Result<WrittenBundle, FilesError> {
    let paths = files::bundle_paths(first, proofs.len());
    let mut sizes = Vec::with_capacity(proofs.len());
    for (path, proof) in paths.iter().zip(proofs) {
        let bytes = proof.to_bytes();
        sizes.push(bytes.len());
        files::write_atomic(path, &bytes)?;
    }
    let manifest = (proofs.len() > 1).then(|| files::manifest_path(first));
    if let Some(m) = &manifest {
        let listing = BundleManifest::of_proofs(first, proofs, digest, level);
        files::write_atomic(m, listing.to_json().as_bytes())?;
    }
    Ok(WrittenBundle {
        paths,
        sizes,
        manifest,
    })
}
