//! [`merge`]: shard manifests into one bundle manifest, with every inconsistency named.

use std::path::{Path, PathBuf};

use glassbox_prover::Shard;

use super::ShardManifest;
use crate::files::{self, FilesError};
use crate::manifest::{BundleManifest, ManifestEntry};

/// Why shard manifests do not merge into one bundle.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No shard manifests were given.
    #[error("no shard manifests given")]
    Empty,
    /// A shard manifest cannot be read or parsed.
    #[error("cannot read shard manifest {}: {reason}", path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Shards of different splits: another shard count, model, batch, chunking or level.
    #[error("{} does not belong with {}: {what} is {got}, not {expected}", path.display(), first.display())]
    Mismatch {
        /// The disagreeing manifest.
        path: PathBuf,
        /// The first manifest given.
        first: PathBuf,
        /// The field (`shard count`, `model digest`, `bundle id (batch of inputs)`, …).
        what: &'static str,
        /// The first manifest's value.
        expected: String,
        /// This one's.
        got: String,
    },
    /// The same shard given twice.
    #[error("shard {index} of {count} is given twice: {} and {}", first.display(), second.display())]
    Duplicate {
        /// The shard index.
        index: usize,
        /// The shard count.
        count: usize,
        /// Its first manifest.
        first: PathBuf,
        /// The repeat.
        second: PathBuf,
    },
    /// A shard is missing.
    #[error("shard {index} of {count} is missing (give all {count} shard manifests)")]
    Missing {
        /// The first missing index.
        index: usize,
        /// The shard count.
        count: usize,
    },
    /// A shard lists other chunks than its index implies.
    #[error("{} lists chunks {got:?}; shard {index} of {count} proves chunks {expected:?}", path.display())]
    WrongChunks {
        /// The manifest.
        path: PathBuf,
        /// Its shard index.
        index: usize,
        /// The shard count.
        count: usize,
        /// The chunks it should list.
        expected: std::ops::Range<usize>,
        /// The chunks it lists.
        got: Vec<usize>,
    },
    /// A listed file name is not a plain name beside its manifest.
    #[error("{} lists `{file}`, which is not a file name beside it", path.display())]
    BadFileName {
        /// The manifest.
        path: PathBuf,
        /// The entry.
        file: String,
    },
    /// A chunk file could not be read or copied beside the merged manifest.
    #[error(transparent)]
    Files(#[from] FilesError),
}

/// Merges shard manifests (in any order) into the bundle manifest at `out`, or beside the
/// shards as `PROOF.bundle.json` when `out` is `None`. Chunk files that sit in another directory
/// than `out` are copied beside it. Returns the manifest's path and contents.
///
/// # Errors
/// The first [`MergeError`]; nothing is written then.
pub fn merge(
    shards: &[PathBuf],
    out: Option<&Path>,
) -> Result<(PathBuf, BundleManifest), MergeError> {
    let read = |path: &PathBuf| -> Result<ShardManifest, MergeError> {
        let bad = |reason: String| MergeError::Read {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    };
    let manifests = shards
        .iter()
        .map(|p| read(p).map(|m| (p, m)))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((first_path, first)) = manifests.first() else {
        return Err(MergeError::Empty);
    };
    let count = first.shards;
    let mut by_index: Vec<Option<(&PathBuf, &ShardManifest)>> = vec![None; count];
    for (path, m) in &manifests {
        check_same(first_path, first, path, m)?;
        let slot = by_index
            .get_mut(m.shard)
            .ok_or_else(|| MergeError::Mismatch {
                path: (*path).clone(),
                first: (*first_path).clone(),
                what: "shard index",
                expected: format!("below {count}"),
                got: m.shard.to_string(),
            })?;
        if let Some((earlier, _)) = slot {
            return Err(MergeError::Duplicate {
                index: m.shard,
                count,
                first: (*earlier).clone(),
                second: (*path).clone(),
            });
        }
        *slot = Some((path, m));
    }
    let out = out.map_or_else(
        || files::manifest_path(&first_path.with_file_name(&first.proof)),
        Path::to_path_buf,
    );
    files::check_output_dir(&out)?;
    let out_dir = files::dir_of(&out);
    let mut entries = Vec::with_capacity(first.chunks);
    let mut copies = Vec::new();
    for (index, slot) in by_index.iter().enumerate() {
        let Some((path, m)) = slot else {
            return Err(MergeError::Missing { index, count });
        };
        let expected = Shard::new(index, count)
            .map_err(|_| MergeError::Missing { index, count })?
            .chunks(first.chunks);
        let got: Vec<usize> = m.proofs.iter().map(|e| e.chunk).collect();
        if !got.iter().copied().eq(expected.clone()) {
            return Err(MergeError::WrongChunks {
                path: (*path).clone(),
                index,
                count,
                expected,
                got,
            });
        }
        for e in &m.proofs {
            if !glassbox_verifier::audit::is_plain_file_name(&e.file) {
                return Err(MergeError::BadFileName {
                    path: (*path).clone(),
                    file: e.file.clone(),
                });
            }
            let from = files::dir_of(path).join(&e.file);
            files::read(&from)?; // every chunk file is there before anything is written
            if !same_dir(&files::dir_of(path), &out_dir) {
                copies.push((from, out_dir.join(&e.file)));
            }
            entries.push(ManifestEntry {
                file: e.file.clone(),
                samples: e.samples,
            });
        }
    }
    for (from, to) in copies {
        files::write_atomic(&to, &files::read(&from)?)?;
    }
    let manifest = BundleManifest {
        digest: first.digest.clone(),
        security_bits: first.security_bits,
        samples: first.samples,
        proofs: entries,
    };
    files::write_atomic(&out, manifest.to_json().as_bytes())?;
    Ok((out, manifest))
}

/// Checks that `m` is a shard of the same split as `first`.
fn check_same(
    first_path: &Path,
    first: &ShardManifest,
    path: &Path,
    m: &ShardManifest,
) -> Result<(), MergeError> {
    let fields: [(&'static str, String, String); 8] = [
        (
            "shard count",
            first.shards.to_string(),
            m.shards.to_string(),
        ),
        ("model digest", first.digest.clone(), m.digest.clone()),
        (
            "bundle id (the batch of inputs)",
            first.bundle_id.clone(),
            m.bundle_id.clone(),
        ),
        (
            "sample count",
            first.samples.to_string(),
            m.samples.to_string(),
        ),
        (
            "chunk count",
            first.chunks.to_string(),
            m.chunks.to_string(),
        ),
        (
            "samples per proof",
            first.per_proof.to_string(),
            m.per_proof.to_string(),
        ),
        (
            "security level",
            first.security_bits.to_string(),
            m.security_bits.to_string(),
        ),
        ("first proof file", first.proof.clone(), m.proof.clone()),
    ];
    for (what, expected, got) in fields {
        if expected != got {
            return Err(MergeError::Mismatch {
                path: path.into(),
                first: first_path.into(),
                what,
                expected,
                got,
            });
        }
    }
    Ok(())
}

/// Whether two directories are the same one (by their canonical paths where they resolve).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
