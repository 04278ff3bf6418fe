//! Shards: one bundle proven by several machines, then merged into one manifest.
//!
//! Every shard reads the whole batch (the bundle id hashes all of it), proves its contiguous
//! range of chunks ([`Shard::chunks`]), writes each chunk's file under the name the
//! single-machine bundle uses (`PROOF.gbp`, `PROOF.1.gbp`, …) and then a shard manifest
//! `PROOF.shard-I-of-N.json`. [`merge`] checks that the shard manifests are exactly shards
//! `0..N` of one batch of one model, chunked alike, gathers their files beside the output, and
//! writes `PROOF.bundle.json`, which verifies as the single-machine bundle does (the proofs
//! themselves bind their chunk index, count and bundle id, so the verifier needs no trust in
//! the merge).

use std::path::{Path, PathBuf};

use glassbox_air::bundle::id_hex;
use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_prover::{BundlePlan, Shard};
use serde::{Deserialize, Serialize};

use crate::files::{self, FilesError};
use crate::manifest::file_name;

mod merge;

pub use merge::{merge, MergeError};

/// One chunk a shard proved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// The chunk's index in the bundle.
    pub chunk: usize,
    /// Its file name, beside the shard manifest.
    pub file: String,
    /// Samples it holds.
    pub samples: usize,
}

/// What one shard proved: `PROOF.shard-I-of-N.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// This shard's index, `0..shards`.
    pub shard: usize,
    /// Number of shards.
    pub shards: usize,
    /// The bundle's first proof file name (`PROOF.gbp`), which names the merged manifest.
    pub proof: String,
    /// The bundle id, hex (the hash of the whole batch's int8 inputs).
    pub bundle_id: String,
    /// The model digest, hex.
    pub digest: String,
    /// Conjectured security of every proof.
    pub security_bits: u32,
    /// Samples in the whole bundle.
    pub samples: usize,
    /// Samples per proof (the last may hold fewer).
    pub per_proof: usize,
    /// Chunks in the whole bundle.
    pub chunks: usize,
    /// The chunks this shard proved, in order.
    pub proofs: Vec<ShardEntry>,
}

impl ShardManifest {
    /// The manifest of `shard` of the bundle `plan` describes (its chunks' files named after
    /// `first`), before its proofs are listed.
    pub fn new(
        first: &Path,
        shard: Shard,
        plan: &BundlePlan,
        digest: &ModelDigest,
        level: SecurityLevel,
    ) -> Self {
        Self {
            shard: shard.index,
            shards: shard.count,
            proof: file_name(first),
            bundle_id: plan.id().map(|id| id_hex(&id)).unwrap_or_default(),
            digest: digest.to_hex(),
            security_bits: level.conjectured_bits(),
            samples: plan.position(0).map_or(0, |p| p.samples as usize),
            per_proof: plan.per_proof(),
            chunks: plan.chunks(),
            proofs: Vec::new(),
        }
    }

    /// The path of this shard's manifest beside `first`: `PROOF.shard-I-of-N.json`.
    pub fn path(first: &Path, shard: Shard) -> PathBuf {
        first.with_extension(format!("shard-{}-of-{}.json", shard.index, shard.count))
    }

    /// Writes the manifest atomically.
    ///
    /// # Errors
    /// [`FilesError`].
    pub fn write(&self, path: &Path) -> Result<(), FilesError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        files::write_atomic(path, text.as_bytes())
    }
}
