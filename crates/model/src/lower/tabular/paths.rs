//! The comparison and path layers of a tree ensemble: path conditions as literals over
//! comparison bits, and the two shapes of the layers (see the [module docs](crate::lower::tabular)).

use std::collections::BTreeMap;

use crate::error::{ModelError, Result};
use crate::lower::tabular::splits::{Bound, Condition};
use crate::quant::encoding::threshold_code;

/// A path condition: `constant + Σ coef·bit/255 ∈ {0, 1}`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Literal {
    constant: i64,
    terms: Vec<(usize, i64)>,
}

impl Literal {
    /// `1 −` the literal: its condition's complement.
    pub(crate) fn negated(&self) -> Self {
        Self {
            constant: 1 - self.constant,
            terms: self.terms.iter().map(|&(b, c)| (b, -c)).collect(),
        }
    }

    /// A branch condition over the comparison bits of the threshold codes: a range `[lo, hi]`
    /// is `[x ≥ lo] − [x beyond hi]` (the second implies the first), a constant has no bits.
    pub(crate) fn of(condition: &Condition, cuts: &[Vec<f32>], bits: &mut Bits) -> Self {
        let (input, lo, hi, outside) = match *condition {
            Condition::Always(holds) => {
                return Self {
                    constant: i64::from(holds),
                    terms: Vec::new(),
                }
            }
            Condition::Range {
                input,
                lo,
                hi,
                outside,
            } => (input, lo, hi, outside),
        };
        // [x > v] when `above`, else [x ≥ v]
        let mut bit = |v: f32, above: bool| {
            let i = cuts[input].partition_point(|&c| c < v);
            bits.get(input, threshold_code(i, above))
        };
        let mut lit = match lo {
            Some(Bound { value, strict }) => Literal {
                constant: 0,
                terms: vec![(bit(value, strict), 1)],
            },
            None => Literal {
                constant: 1,
                terms: Vec::new(),
            },
        };
        if let Some(Bound { value, strict }) = hi {
            lit.terms.push((bit(value, !strict), -1));
        }
        if outside {
            lit.negated()
        } else {
            lit
        }
    }
}

/// A leaf's node index and the literals of its path.
pub(crate) type LeafPath = (usize, Vec<Literal>);

/// The comparison bits `(feature, K)` in first-use order.
#[derive(Default)]
pub(crate) struct Bits {
    index: BTreeMap<(usize, i64), usize>,
    /// The bits, in first-use order.
    pub(crate) order: Vec<(usize, i64)>,
}

impl Bits {
    /// The index of bit `(feature, K)`, added if new.
    pub(crate) fn get(&mut self, feature: usize, k: i64) -> usize {
        *self.index.entry((feature, k)).or_insert_with(|| {
            self.order.push((feature, k));
            self.order.len() - 1
        })
    }
}

/// The comparison and path layers of a tree ensemble, in one of two shapes.
pub(crate) struct PathLayers {
    /// Comparison layer weights (`[bits][inputs]`, one 1 per row).
    pub(crate) w1: Vec<i8>,
    /// Comparison layer biases `129 − K`.
    pub(crate) b1: Vec<i64>,
    /// Path layer weights (`[leaves][bits per group]`).
    pub(crate) w2: Vec<i8>,
    /// Path layer biases.
    pub(crate) b2: Vec<i64>,
    /// Path layer groups (1: dense).
    pub(crate) groups: usize,
    /// The `(tree, node)` behind every leaf slot (`None` for padding).
    pub(crate) leaf_nodes: Vec<Option<(usize, usize)>>,
}

impl PathLayers {
    /// Proving cost estimate in main-trace cells at a batch of 64, following the layout: a
    /// layer's weights fill `next_pow2(n_in) × n_out / groups` cells, and every sample pays six
    /// cells per padded hidden activation.
    pub(crate) fn cost(&self, n_features: usize) -> usize {
        let (bits, leaves) = (self.b1.len(), self.b2.len());
        let weights = n_features.next_power_of_two() * bits
            + bits.next_power_of_two() * (leaves / self.groups.max(1));
        weights + 64 * 6 * (bits.next_power_of_two() + leaves.next_power_of_two())
    }

    /// Dense: comparisons shared by all trees (each distinct `(feature, K)` once), every leaf
    /// tested against all of them. Best for a few deep trees.
    pub(crate) fn dense(trees: &[(Bits, Vec<LeafPath>)], n_features: usize) -> Result<Self> {
        let mut all = Bits::default();
        let remap: Vec<Vec<usize>> = trees
            .iter()
            .map(|(bits, _)| bits.order.iter().map(|&(f, k)| all.get(f, k)).collect())
            .collect();
        let n_bits = all.order.len();
        let (mut w1, mut b1) = (vec![0i8; n_bits * n_features], vec![0i64; n_bits]);
        for (row, &(f, k)) in all.order.iter().enumerate() {
            w1[row * n_features + f] = 1;
            b1[row] = 129 - k;
        }
        let (mut w2, mut b2, mut leaf_nodes) = (Vec::new(), Vec::new(), Vec::new());
        for (ti, (_, leaves)) in trees.iter().enumerate() {
            for (ni, path) in leaves {
                let (row, bias) = path_row(path, n_bits, |b| remap[ti][b])?;
                w2.extend(row);
                b2.push(bias);
                leaf_nodes.push(Some((ti, *ni)));
            }
        }
        Ok(Self {
            w1,
            b1,
            w2,
            b2,
            groups: 1,
            leaf_nodes,
        })
    }

    /// Grouped: one group per tree with `b` comparison slots (a power of two, as grouped layers
    /// need) and `m` leaf slots, so the path layer costs `Σ bits × leaves` over trees. Unused
    /// comparison slots compute 0; unused leaf slots (bias −255) are never reached. Best for
    /// many shallow trees.
    pub(crate) fn grouped(trees: &[(Bits, Vec<LeafPath>)], n_features: usize) -> Result<Self> {
        let b = trees
            .iter()
            .map(|(bits, _)| bits.order.len())
            .max()
            .unwrap_or(1)
            .max(1)
            .next_power_of_two();
        let m = trees.iter().map(|(_, l)| l.len()).max().unwrap_or(1);
        let (n_bits, n_leaves) = (trees.len() * b, trees.len() * m);
        let (mut w1, mut b1) = (vec![0i8; n_bits * n_features], vec![0i64; n_bits]);
        let (mut w2, mut b2) = (vec![0i8; n_leaves * b], vec![-255i64; n_leaves]);
        let mut leaf_nodes = vec![None; n_leaves];
        for (ti, (bits, leaves)) in trees.iter().enumerate() {
            for (slot, &(f, k)) in bits.order.iter().enumerate() {
                let row = ti * b + slot;
                w1[row * n_features + f] = 1;
                b1[row] = 129 - k;
            }
            for (slot, (ni, path)) in leaves.iter().enumerate() {
                let row = ti * m + slot;
                let (weights, bias) = path_row(path, b, |bit| bit)?;
                w2[row * b..(row + 1) * b].copy_from_slice(&weights);
                b2[row] = bias;
                leaf_nodes[row] = Some((ti, *ni));
            }
        }
        Ok(Self {
            w1,
            b1,
            w2,
            b2,
            groups: trees.len(),
            leaf_nodes,
        })
    }
}

/// One path neuron: ±1 weights over `width` bits (`index` maps a tree's bit to its column) and
/// the bias `255·(Σ constants − D + 1)`.
fn path_row(
    path: &[Literal],
    width: usize,
    index: impl Fn(usize) -> usize,
) -> Result<(Vec<i8>, i64)> {
    let mut row = vec![0i8; width];
    let mut constant = 0i64;
    for lit in path {
        constant += lit.constant;
        for &(bit, c) in &lit.terms {
            let w = &mut row[index(bit)];
            *w = i8::try_from(i64::from(*w) + c).map_err(|_| ModelError::Unsupported {
                op: "TreeEnsemble".into(),
                node: "(lowering)".into(),
                reason: "a path tests one comparison more than 127 times".into(),
            })?;
        }
    }
    Ok((row, 255 * (constant - path.len() as i64 + 1)))
}
