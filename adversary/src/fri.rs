//! FRI, written out step by step so that any step can be forged: commit a layer, fold it with
//! the coin's challenge, commit the remainder, and open every layer at the query positions.
//!
//! The folding is the verifier's own rule (interpolate the `FOLD` values of a row through their
//! points and evaluate at the layer's challenge), so an honest run of this code is accepted by
//! winterfell's verifier exactly as winterfell's own prover is.

use glassbox_air::Felt;
use winter_prover::{Deserializable, Serializable};
use winterfell::crypto::{ElementHasher, MerkleTree, RandomCoin, VectorCommitment};
use winterfell::math::{fft, polynom, FieldElement, StarkField};

use crate::{Coin, Digest, Hash};

/// The folding factor of both presets.
pub const FOLD: usize = 8;

/// One committed layer.
pub struct Layer<E> {
    /// The layer's evaluations in natural order.
    pub values: Vec<E>,
    tree: MerkleTree<Hash>,
}

/// The committed layers, the last layer's evaluations and the remainder sent with the proof.
pub struct Committed<E> {
    /// Layers opened by queries.
    pub layers: Vec<Layer<E>>,
    /// Every FRI commitment in transcript order (the last is the remainder's).
    pub roots: Vec<Digest>,
    /// The evaluations the remainder stands for.
    pub last: Vec<E>,
    /// The remainder's coefficients, highest degree first (what the proof carries).
    pub remainder: Vec<E>,
}

/// A deviation in the commit phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitForgery {
    /// The honest protocol.
    None,
    /// Every layer after the first (and so the remainder) is zero, a codeword of any degree,
    /// instead of the fold of the layer above.
    NotFolded,
    /// The remainder carries twice its coefficients (zero high ones), committed as sent.
    LongRemainder,
}

/// The `2^k`-th root of unity domain point `offset · g^i` of a domain of `size` points.
fn point(size: usize, offset: Felt, i: usize) -> Felt {
    Felt::get_root_of_unity(size.ilog2()).exp_vartime(i as u64) * offset
}

/// Folds `values` (a layer over `offset · <g>`) with `alpha`, as the verifier does.
pub fn fold<E: FieldElement<BaseField = Felt>>(values: &[E], offset: Felt, alpha: E) -> Vec<E> {
    let n = values.len();
    let rows = n / FOLD;
    (0..rows)
        .map(|j| {
            let xs: Vec<E> = (0..FOLD)
                .map(|k| E::from(point(n, offset, j + k * rows)))
                .collect();
            let ys: Vec<E> = (0..FOLD).map(|k| values[j + k * rows]).collect();
            polynom::eval(&polynom::interpolate(&xs, &ys, false), alpha)
        })
        .collect()
}

/// The honest remainder of a last layer of `blowup`-times redundant evaluations: its
/// coefficients of degree below `len / blowup`, highest first.
pub fn remainder<E: FieldElement<BaseField = Felt>>(
    last: &[E],
    offset: Felt,
    blowup: usize,
) -> Vec<E> {
    let mut coeffs = last.to_vec();
    let inv_twiddles = fft::get_inv_twiddles::<Felt>(coeffs.len());
    fft::interpolate_poly_with_offset(&mut coeffs, &inv_twiddles, offset);
    coeffs.truncate(last.len() / blowup);
    coeffs.reverse();
    coeffs
}

/// A polynomial of `len` coefficients (highest first) through the last layer's values at the
/// final query `positions`: what a prover fits after the positions are drawn.
pub fn fitted_remainder<E: FieldElement<BaseField = Felt>>(
    last: &[E],
    offset: Felt,
    positions: &[usize],
    len: usize,
) -> Vec<E> {
    let xs: Vec<E> = positions
        .iter()
        .map(|&p| E::from(point(last.len(), offset, p)))
        .collect();
    let ys: Vec<E> = positions.iter().map(|&p| last[p]).collect();
    let mut coeffs = polynom::interpolate(&xs, &ys, false);
    coeffs.resize(len, E::ZERO);
    coeffs.reverse();
    coeffs
}

fn rows<E: FieldElement>(values: &[E]) -> Vec<[E; FOLD]> {
    let rows = values.len() / FOLD;
    (0..rows)
        .map(|j| core::array::from_fn(|k| values[j + k * rows]))
        .collect()
}

/// Commits `evaluations` and every folded layer, drawing each challenge from `coin`, then
/// commits the honest remainder of the last layer.
pub fn commit<E: FieldElement<BaseField = Felt>>(
    coin: &mut Coin,
    evaluations: Vec<E>,
    num_layers: usize,
    offset: Felt,
    blowup: usize,
    forgery: CommitForgery,
) -> Committed<E> {
    let mut layers = Vec::with_capacity(num_layers);
    let mut roots = Vec::with_capacity(num_layers + 1);
    let mut values = evaluations;
    for _ in 0..num_layers {
        let leaves: Vec<Digest> = rows(&values)
            .iter()
            .map(|r| Hash::hash_elements(r))
            .collect();
        let tree = MerkleTree::<Hash>::new(leaves).expect("a layer has a power-of-two size");
        let root = *tree.root();
        coin.reseed(root);
        roots.push(root);
        let alpha: E = coin.draw().expect("the coin draws");
        let next = match forgery {
            CommitForgery::NotFolded => vec![E::ZERO; values.len() / FOLD],
            _ => fold(&values, offset, alpha),
        };
        layers.push(Layer { values, tree });
        values = next;
    }
    let mut remainder = remainder(&values, offset, blowup);
    if forgery == CommitForgery::LongRemainder {
        let mut long = vec![E::ZERO; remainder.len()];
        long.append(&mut remainder);
        remainder = long;
    }
    let root = Hash::hash_elements(&remainder);
    coin.reseed(root);
    roots.push(root);
    let _unused: E = coin.draw().expect("the coin draws");
    Committed {
        layers,
        roots,
        last: values,
        remainder,
    }
}

/// The final positions a layer of `size` is queried at, after every fold of `positions`.
pub fn final_positions(positions: &[usize], layers: usize, size: usize) -> Vec<usize> {
    let mut out = positions.to_vec();
    let mut n = size;
    for _ in 0..layers {
        out = fold_positions(&out, n);
        n /= FOLD;
    }
    out
}

fn fold_positions(positions: &[usize], size: usize) -> Vec<usize> {
    let target = size / FOLD;
    let mut out = Vec::new();
    for &p in positions {
        if !out.contains(&(p % target)) {
            out.push(p % target);
        }
    }
    out
}

/// The FRI proof: every layer opened at the (folded) positions, then `remainder`.
pub fn proof<E: FieldElement<BaseField = Felt>>(
    committed: &Committed<E>,
    positions: &[usize],
    remainder: &[E],
) -> winter_fri::FriProof {
    let mut bytes = Vec::new();
    bytes.push(committed.layers.len() as u8);
    let mut positions = positions.to_vec();
    for layer in &committed.layers {
        let size = layer.values.len();
        let folded = fold_positions(&positions, size);
        let all_rows = rows(&layer.values);
        let mut values = Vec::new();
        for &i in &folded {
            for v in &all_rows[i] {
                v.write_into(&mut values);
            }
        }
        let (_, opening) = layer
            .tree
            .open_many(&folded)
            .expect("positions are in range");
        let paths = opening.to_bytes();
        bytes.extend_from_slice(&(values.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&values);
        bytes.extend_from_slice(&(paths.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&paths);
        positions = folded;
    }
    let mut rem = Vec::new();
    for v in remainder {
        v.write_into(&mut rem);
    }
    bytes.extend_from_slice(&(rem.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&rem);
    bytes.push(0); // log2 of the partition count: one partition
    winter_fri::FriProof::read_from_bytes(&bytes).expect("a FRI proof in winterfell's layout")
}
