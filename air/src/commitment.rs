//! The weight commitment: a Merkle tree over the low-degree extension of the weight columns.
//!
//! The weight columns of a model's layout do not depend on the batch. Their polynomials (degree
//! below the trace length `N`) are evaluated over the domain every preset's proof commits its
//! main trace on: `N · WEIGHT_BLOWUP` points `offset · ω^i` in natural order. Row `i`'s weights are
//! hashed with Blake3 into leaf `i`, and the tree's root goes into the model digest.
//!
//! **Why this binds the weights.** The main trace holds the weight columns, so winterfell's proof
//! opens them at its query positions (drawn after the main trace is committed, with the preset's
//! grinding). The prover adds a Merkle opening of the committed tree at the same positions; the
//! verifier hashes the weight cells of each opened main-trace row and checks them against the
//! root. A trace whose weight polynomials differ from the committed ones agrees with the committed
//! rows on at most `1/8` of the domain (plus the part FRI's proximity bound leaves open), so each
//! query catches it like a FRI query catches a false trace: the preset's conjectured security
//! covers the weights too. The digest of an honestly compiled model is the root of a true low-degree
//! extension; a digest published without weights behind it is not a model, and an audit that
//! recomputes it from the weights exposes it.
//!
//! **Why it binds even a digest no weights produce: the sketch.** A root is only as binding as
//! the committed rows are close to one codeword. A publisher could build the tree from a mix of
//! two models' extensions (half the rows from each); each model then agrees with the committed
//! rows on about 9/16 of the domain and passes the 29 queries with probability `2^-24` per
//! grinding nonce, about `2^40` hash evaluations in all. So the digest also carries
//! [`SKETCHES`] random linear sketches of the weights, `s = Σ_r λ^(N−1−r) Σ_t μ^t W[r][t]` over
//! the weight cells of row `r`, with points `(λ, μ)` derived from the descriptor and the root
//! (so they are fixed only after the rows are), and the AIR checks them against the trace's own
//! weight columns in [`SKETCH_COLUMNS`](crate::layout::SKETCH_COLUMNS) main columns. Codewords
//! that agree with the committed rows on much of the domain are few and fixed before the points
//! are drawn, so two of them meet a sketch with probability at most `(N + K)/p` (independently for
//! each sketch); a
//! weight matrix chosen after the points to meet the sketches agrees with the rows on little
//! more than 1/8 of the domain, like any false trace. A malformed digest thus binds one model
//! at the STARK's own (conjectured) security, as an honest one does.
//!
//! This replaces a Rescue sponge inside the AIR, which needed 18 main columns per seven weight
//! columns and degree-8 constraints.

use alloc::vec::Vec;

use winter_crypto::hashers::Blake3_256;
use winter_crypto::{BatchMerkleProof, Digest, ElementHasher, Hasher, MerkleTree};
use winter_math::fft;
use winter_math::{FieldElement, StarkField};

use crate::descriptor::ModelDescriptor;
use crate::field::Felt;
pub use crate::limits::SKETCHES;

/// The hash of the weight tree (the one winterfell commits traces with).
pub type WeightHasher = Blake3_256<Felt>;
type Node = <WeightHasher as Hasher>::Digest;

/// Blowup of the commitment domain: that of every [`crate::SecurityLevel`] preset.
pub const WEIGHT_BLOWUP: usize = 8;

/// The evaluations of one weight column's polynomial over the commitment domain (`column.len()`
/// must be a power of two of at least 2).
pub fn weight_lde(column: &[Felt]) -> Vec<Felt> {
    let mut poly = column.to_vec();
    let inv_twiddles = fft::get_inv_twiddles::<Felt>(poly.len());
    fft::interpolate_poly(&mut poly, &inv_twiddles);
    let twiddles = fft::get_twiddles::<Felt>(poly.len());
    fft::evaluate_poly_with_offset(&poly, &twiddles, Felt::GENERATOR, WEIGHT_BLOWUP)
}

/// The leaf of one commitment-domain row: the Blake3 hash of its weight cells.
pub fn weight_leaf(row: &[Felt]) -> [u8; 32] {
    WeightHasher::hash_elements(row).as_bytes()
}

/// The Merkle tree over a model's weight rows (built once per model, opened once per proof).
#[derive(Debug)]
pub struct WeightCommitment {
    tree: MerkleTree<WeightHasher>,
}

impl WeightCommitment {
    /// Builds the tree from the leaves of every commitment-domain row, in domain order.
    ///
    /// # Errors
    /// Fewer than two leaves, or a count that is not a power of two.
    pub fn from_leaves(leaves: Vec<[u8; 32]>) -> Result<Self, CommitmentError> {
        let leaves = leaves.into_iter().map(Node::new).collect();
        let tree = MerkleTree::new(leaves).map_err(|_| CommitmentError::Shape)?;
        Ok(Self { tree })
    }

    /// The root, which the model digest commits to.
    pub fn root(&self) -> [u8; 32] {
        self.tree.root().as_bytes()
    }

    /// Opens the rows at `positions` (sorted, distinct, as winterfell queries them).
    ///
    /// # Errors
    /// A position outside the domain, or repeated.
    pub fn open(&self, positions: &[usize]) -> Result<WeightOpening, CommitmentError> {
        let (_, proof) = self
            .tree
            .prove_batch(positions)
            .map_err(|_| CommitmentError::Positions)?;
        Ok(WeightOpening {
            depth: proof.depth,
            nodes: proof
                .nodes
                .into_iter()
                .map(|v| v.into_iter().map(|d| d.as_bytes()).collect())
                .collect(),
        })
    }
}

/// A batch Merkle opening of the weight tree (the nodes a verifier needs besides the leaves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightOpening {
    /// Depth of the tree.
    pub depth: u8,
    /// Per opened leaf pair, the sibling nodes it contributes (winterfell's batch proof layout).
    pub nodes: Vec<Vec<[u8; 32]>>,
}

impl WeightOpening {
    /// Bytes this opening takes at the end of a proof file.
    pub fn encoded_len(&self) -> usize {
        2 + self.nodes.iter().map(|v| 1 + 32 * v.len()).sum::<usize>()
    }

    /// Checks that `leaves` (one per position, in order) are the committed tree's leaves at
    /// `positions` under `root`.
    ///
    /// # Errors
    /// [`CommitmentError::Mismatch`] if they are not, or the opening is malformed.
    pub fn verify(
        &self,
        root: &[u8; 32],
        positions: &[usize],
        leaves: &[[u8; 32]],
    ) -> Result<(), CommitmentError> {
        let depth = usize::from(self.depth);
        // bound everything the batch-proof walk indexes before handing it to winterfell
        if positions.is_empty()
            || positions.len() != leaves.len()
            || self.nodes.len() > positions.len()
            || !(1..usize::BITS as usize).contains(&depth)
            || positions.iter().any(|&p| p >> depth != 0)
            || self.nodes.iter().any(|v| v.len() > depth + 1)
        {
            return Err(CommitmentError::Mismatch);
        }
        let proof = BatchMerkleProof::<WeightHasher> {
            depth: self.depth,
            nodes: self
                .nodes
                .iter()
                .map(|v| v.iter().map(|&b| Node::new(b)).collect())
                .collect(),
        };
        let leaves: Vec<Node> = leaves.iter().map(|&b| Node::new(b)).collect();
        MerkleTree::<WeightHasher>::verify_batch(&Node::new(*root), positions, &leaves, &proof)
            .map_err(|_| CommitmentError::Mismatch)
    }
}

/// A weight root as field elements: eight 32-bit limbs, so distinct roots give distinct
/// elements (in the digest, the public inputs and the sketch points).
pub fn root_elements(root: &[u8; 32]) -> impl Iterator<Item = Felt> + '_ {
    root.chunks(4)
        .map(|c| Felt::new(u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
}

/// The points `(λ, μ)` of each weight sketch, drawn from the descriptor and the weight root.
pub fn sketch_points(descriptor: &ModelDescriptor, root: &[u8; 32]) -> [(Felt, Felt); SKETCHES] {
    let mut elements = descriptor.to_elements();
    elements.extend(root_elements(root));
    let seed = WeightHasher::hash_elements(&elements).as_bytes();
    let limb = |k: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&seed[8 * k..8 * k + 8]);
        Felt::new(u64::from_le_bytes(b))
    };
    core::array::from_fn(|k| (limb(2 * k), limb(2 * k + 1)))
}

/// `[μ^0, μ^1, …]`, one power per weight column.
pub fn sketch_powers(mu: Felt, columns: usize) -> Vec<Felt> {
    let mut out = Vec::with_capacity(columns);
    let mut p = Felt::ONE;
    for _ in 0..columns {
        out.push(p);
        p *= mu;
    }
    out
}

/// One row's sketch term `Σ_t μ^t w_t` (`row` holds the row's weight cells).
pub fn sketch_row<E: FieldElement<BaseField = Felt>>(row: &[E], mu_powers: &[Felt]) -> E {
    row.iter()
        .zip(mu_powers)
        .fold(E::ZERO, |acc, (&w, &m)| acc + w.mul_base(m))
}

/// The sketch columns of one sketch: the running sum `H` (`H[0] = 0`,
/// `H[r+1] = T[r]`) and the row totals `T[r] = λ·H[r] + Σ_t μ^t W[r][t]`; `T[N−1]` is the
/// sketch.
pub fn sketch_columns(columns: &[Vec<Felt>], (lambda, mu): (Felt, Felt)) -> [Vec<Felt>; 2] {
    let rows = columns.first().map_or(0, Vec::len);
    let powers = sketch_powers(mu, columns.len());
    let mut h = Vec::with_capacity(rows);
    let mut t = Vec::with_capacity(rows);
    let mut acc = Felt::ZERO;
    let mut row = alloc::vec![Felt::ZERO; columns.len()];
    for r in 0..rows {
        for (cell, col) in row.iter_mut().zip(columns) {
            *cell = col[r];
        }
        h.push(acc);
        acc = lambda * acc + sketch_row(&row, &powers);
        t.push(acc);
    }
    [h, t]
}

/// Why a weight commitment could not be built, opened or checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitmentError {
    /// The commitment domain is not a power of two of at least two rows.
    Shape,
    /// Positions outside the domain, or repeated.
    Positions,
    /// The opened weight rows are not the committed ones.
    Mismatch,
}

impl core::fmt::Display for CommitmentError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Shape => "the weight commitment domain is not a power of two",
            Self::Positions => "weight rows opened at invalid positions",
            Self::Mismatch => "the proof's weights are not the committed weights",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize, salt: u64) -> Vec<[u8; 32]> {
        (0..n as u64)
            .map(|i| weight_leaf(&[Felt::new(i), Felt::new(salt)]))
            .collect()
    }

    #[test]
    fn openings_verify_and_reject_other_leaves() {
        let Ok(c) = WeightCommitment::from_leaves(leaves(64, 1)) else {
            panic!("64 leaves build a tree");
        };
        let positions = [3usize, 17, 18, 63];
        let Ok(opening) = c.open(&positions) else {
            panic!("valid positions open");
        };
        let all = leaves(64, 1);
        let opened: Vec<_> = positions.iter().map(|&p| all[p]).collect();
        assert_eq!(opening.verify(&c.root(), &positions, &opened), Ok(()));
        let other = leaves(64, 2);
        let mut wrong = opened.clone();
        wrong[2] = other[18];
        assert!(opening.verify(&c.root(), &positions, &wrong).is_err());
        assert!(opening
            .verify(&c.root(), &[3, 17, 19, 63], &opened)
            .is_err());
        let mut cut = opening.clone();
        cut.depth = 40;
        assert!(cut.verify(&c.root(), &positions, &opened).is_err());
    }

    #[test]
    fn the_sketch_is_a_horner_sum_over_rows() {
        let cols = [
            alloc::vec![Felt::new(1), Felt::new(2), Felt::new(3)],
            alloc::vec![Felt::new(4), Felt::new(5), Felt::new(6)],
        ];
        let (l, m) = (Felt::new(10), Felt::new(100));
        let [h, t] = sketch_columns(&cols, (l, m));
        let row = |r: usize| cols[0][r] + m * cols[1][r];
        assert_eq!(h[0], Felt::ZERO);
        assert_eq!(t[2], l * l * row(0) + l * row(1) + row(2));
        assert_eq!(h[1], t[0]);
        assert_eq!(h[2], t[1]);
    }

    #[test]
    fn the_extension_agrees_with_the_columns_polynomial() {
        // a constant column extends to the same constant; a degree-1 column does not repeat
        let lde = weight_lde(&[Felt::new(5); 8]);
        assert_eq!(lde.len(), 8 * WEIGHT_BLOWUP);
        assert!(lde.iter().all(|&v| v == Felt::new(5)));
        let g = Felt::get_root_of_unity(3);
        let col: Vec<Felt> = (0..8u32).map(|i| g.exp(i.into())).collect();
        let lde = weight_lde(&col);
        // x ↦ x evaluated at offset·ω^i
        let w = Felt::get_root_of_unity(6);
        for (i, &v) in lde.iter().enumerate() {
            assert_eq!(v, Felt::GENERATOR * w.exp((i as u32).into()));
        }
    }
}
