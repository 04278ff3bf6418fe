//! A batch's split into proofs, and into shards proven on different machines.
//!
//! The split is a pure function of the inputs and the samples per proof: chunk `k` holds samples
//! `k·per_proof .. min((k+1)·per_proof, total)`, and every chunk binds the bundle id of all the
//! inputs (see [`glassbox_air::bundle`]). So machines that read the same input file and agree on
//! `per_proof` prove chunks that assemble into the bundle one machine would have proven, in any
//! order and without talking to each other. A [`Shard`] `I/N` is a contiguous range of chunks:
//! shard `I` proves chunks `⌊I·C/N⌋ .. ⌊(I+1)·C/N⌋` of `C`, so the shards' sizes differ by at
//! most one chunk and, when `N > C`, some shards prove nothing.

use core::fmt;
use core::ops::Range;

use glassbox_air::{BundlePosition, ProofEnvelope, SecurityLevel};
use glassbox_trace::Program;

use crate::prover::{prove_trace, ProveError};

/// One of `count` shards of a bundle: the `index`-th contiguous range of its chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// A shard, checked: `count ≥ 1` and `index < count`.
    ///
    /// # Errors
    /// A sentence naming what is wrong.
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the shard count {count} (indexes run from 0)"
            ));
        }
        Ok(Self { index, count })
    }

    /// Parses `I/N` (as `--shard` takes it, e.g. `2/4` for the third of four).
    ///
    /// # Errors
    /// A sentence naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("shard `{text}` is not of the form I/N, e.g. 0/4"))?;
        let num = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("shard `{text}`: `{s}` is not a non-negative integer"))
        };
        Self::new(num(i)?, num(n)?)
    }

    /// The chunks of a bundle of `chunks` chunks this shard proves.
    pub fn chunks(&self, chunks: usize) -> Range<usize> {
        let at = |i: usize| (i as u128 * chunks as u128 / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How a batch splits into proofs: each chunk's samples and bundle position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundlePlan {
    per_proof: usize,
    positions: Vec<BundlePosition>,
}

impl BundlePlan {
    /// The plan for `inputs` at most `max_per_proof` samples per proof (capped at what one proof
    /// of `program` holds, at least 1). Hashes all the inputs once, for the bundle id.
    pub fn new(program: &Program, inputs: &[Vec<i64>], max_per_proof: usize) -> Self {
        let per_proof = max_per_proof.clamp(1, program.max_batch().max(1));
        Self {
            per_proof,
            positions: bundle_positions(inputs, per_proof),
        }
    }

    /// Samples per proof (the last proof may hold fewer).
    pub fn per_proof(&self) -> usize {
        self.per_proof
    }

    /// Number of chunks (proofs).
    pub fn chunks(&self) -> usize {
        self.positions.len()
    }

    /// The bundle id every chunk binds.
    pub fn id(&self) -> Option<[u8; 32]> {
        self.positions.first().map(|p| p.id)
    }

    /// Chunk `k`'s position in the bundle.
    pub fn position(&self, k: usize) -> Option<&BundlePosition> {
        self.positions.get(k)
    }

    /// Chunk `k`'s samples: an index range into the inputs.
    pub fn samples(&self, k: usize) -> Range<usize> {
        let total = self.positions.first().map_or(0, |p| p.samples as usize);
        let start = (k * self.per_proof).min(total);
        start..(start + self.per_proof).min(total)
    }

    /// Proves chunk `k` of the plan made for these `inputs`.
    ///
    /// # Errors
    /// As [`crate::prove`]; [`ProveError::Compile`] with an empty batch when `k` is out of range.
    pub fn prove_chunk(
        &self,
        program: &Program,
        inputs: &[Vec<i64>],
        k: usize,
        level: SecurityLevel,
    ) -> Result<ProofEnvelope, ProveError> {
        let chunk = inputs.get(self.samples(k)).unwrap_or_default();
        // out of range: no samples, which the layout refuses
        let position = self.positions.get(k).copied();
        let position = position.unwrap_or_else(|| BundlePosition::single(&[]));
        prove_trace(program.trace_chunk(chunk, position)?, level)
    }
}

/// Proves any number of samples as a bundle: several proofs of at most `max_per_proof` samples
/// each (capped at what one proof holds), each stating its place in the bundle (the bundle id
/// over all of `inputs`, its chunk index and the chunk count, its first sample; see
/// [`glassbox_air::bundle`]). One chunk is the same proof [`prove`] makes.
///
/// # Errors
/// As [`prove`], for the first failing chunk.
pub fn prove_bundle(
    program: &Program,
    inputs: &[Vec<i64>],
    max_per_proof: usize,
    level: SecurityLevel,
) -> Result<Vec<ProofEnvelope>, ProveError> {
    let plan = BundlePlan::new(program, inputs, max_per_proof);
    (0..plan.chunks())
        .map(|k| plan.prove_chunk(program, inputs, k, level))
        .collect()
}

/// The bundle positions of `inputs` split into chunks of `chunk` samples (the last may be
/// shorter): one bundle id over all of them.
pub fn bundle_positions(inputs: &[Vec<i64>], chunk: usize) -> Vec<BundlePosition> {
    let id = glassbox_air::bundle_id(inputs.iter().map(Vec::as_slice));
    let chunk = chunk.max(1);
    let chunks = inputs.len().div_ceil(chunk);
    (0..chunks)
        .map(|k| BundlePosition {
            id,
            chunk: k as u32,
            chunks: chunks as u32,
            first_sample: (k * chunk) as u32,
            samples: inputs.len() as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_chunk_once_in_order() {
        for chunks in [0usize, 1, 3, 4, 7, 157] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard::new(index, count).expect("shard").chunks(chunks);
                    assert_eq!(r.start, next, "{index}/{count} of {chunks}");
                    assert!(r.len() <= chunks.div_ceil(count));
                    next = r.end;
                }
                assert_eq!(next, chunks);
            }
        }
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("2/4").expect("ok").to_string(), "2/4");
        for bad in ["4/4", "1/0", "a/2", "1", "-1/2", "1/2/3", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
