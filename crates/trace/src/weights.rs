//! A program's weights in the trace: the weight columns of every layer (dense blocks and
//! convolution stencils), the sketch columns that follow them, and the Merkle commitment to their
//! low-degree extension that every proof opens.

use glassbox_air::commitment::{sketch_columns, sketch_points, CommitmentError, SKETCHES};
use glassbox_air::{
    felt_from_i64, ConvShape, Felt, LayerLayout, Layout, ModelDescriptor, WeightCommitment,
};
use glassbox_model::{order_digits, QuantizedDense};
use winter_math::FieldElement;

use crate::extension::WeightExtension;

/// Main-trace columns that do not depend on the inputs (the weight columns, then the sketch
/// columns), starting at the first weight column.
#[derive(Clone, PartialEq)]
pub(crate) struct StaticColumns {
    /// Index of the first column.
    pub(crate) start: usize,
    /// The columns.
    pub(crate) columns: Vec<Vec<Felt>>,
}

impl std::fmt::Debug for StaticColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StaticColumns({} columns from {})",
            self.columns.len(),
            self.start
        )
    }
}

/// The weight columns of `layout` for per-layer row-major `weights`.
pub(crate) fn weight_columns(weights: &[Vec<i8>], layout: &Layout) -> Vec<Vec<i8>> {
    let n = layout.trace_len;
    let mut cols = Vec::new();
    for (l, lay) in layout.layers.iter().enumerate() {
        let w = &weights[l];
        if let Some(shape) = &lay.conv {
            cols.extend(stencil_columns(n, lay, shape, w));
            continue;
        }
        for t in 0..lay.k {
            let mut col = vec![0i8; n];
            for (row, cell) in col.iter_mut().enumerate() {
                let (j, p) = (row / lay.block_len, row % lay.block_len);
                // block j holds input j's weights to the outputs of its group
                let local = lay.k * lay.block_len - 1 - (p * lay.k + t);
                if local < lay.group_out && j < lay.n_in {
                    let (g, jj) = (j / lay.group_in, j % lay.group_in);
                    let i = g * lay.group_out + local;
                    *cell = w[i * lay.group_in + jj];
                }
            }
            cols.push(col);
        }
    }
    cols
}

/// The weight columns of a stencil layer: block `j`, row `block_len − 1 − o`, column `t` holds
/// the weight from input `j` to output channel `o` at the position tap `t` reaches (zero where the
/// tap falls outside the output grid). `w` is the dense `[n_out][n_in]` matrix, rows in physical
/// order.
fn stencil_columns(n: usize, lay: &LayerLayout, shape: &ConvShape, w: &[i8]) -> Vec<Vec<i8>> {
    let physical = physical_rows(shape);
    let mut cols = vec![vec![0i8; n]; lay.k];
    for (t, col) in cols.iter_mut().enumerate() {
        let (dy, dx) = (t / shape.kernel_w, t % shape.kernel_w);
        for (row, cell) in col.iter_mut().enumerate() {
            let (j, p) = (row / lay.block_len, row % lay.block_len);
            let o = lay.block_len - 1 - p;
            if o >= shape.out_channels || j >= lay.n_in {
                continue;
            }
            if let Some(i) = stencil_output(shape, j, o, dy, dx) {
                *cell = w[physical[i] * lay.n_in + j];
            }
        }
    }
    cols
}

/// The natural output index tap `(dy, dx)` of input `j` reaches in channel `o`, if inside the
/// output grid.
fn stencil_output(shape: &ConvShape, j: usize, o: usize, dy: usize, dx: usize) -> Option<usize> {
    let (_, qy, qx) = shape.input_position(j);
    let y = (qy + shape.pad_top).checked_sub(dy)?;
    let x = (qx + shape.pad_left).checked_sub(dx)?;
    (y < shape.out_height && x < shape.out_width)
        .then(|| (o * shape.out_height + y) * shape.out_width + x)
}

/// For each natural output index, its physical row.
fn physical_rows(shape: &ConvShape) -> Vec<usize> {
    let n = (shape.out_channels * shape.out_plane()).next_power_of_two();
    let mut physical = vec![0; n];
    for b in 0..n {
        let i = glassbox_air::conv::natural_index(&shape.out_order, b) as usize;
        if let Some(slot) = physical.get_mut(i) {
            *slot = b;
        }
    }
    physical
}

/// The stencil shape of a convolution layer, if the AIR can store it as one: power-of-two input
/// sides, outputs in a mixed-radix order of a power-of-two count, and every weight on the stencil.
pub(crate) fn stencil_shape(layer: &QuantizedDense) -> Option<ConvShape> {
    let g = layer.conv.as_ref()?;
    // the model's geometry and the AIR's shape share their sizes (`ConvDims`); only the output
    // order changes form, from a list to mixed-radix digits
    let shape = ConvShape {
        dims: g.dims,
        out_order: order_digits(&g.out_order)?,
    };
    let ok = layer.groups == 1
        && shape.is_valid(layer.n_in, layer.n_out)
        && on_stencil(&shape, layer.n_in, &layer.weights);
    ok.then_some(shape)
}

/// True if every nonzero weight of a stencil layer lies on its stencil (so the stencil columns
/// hold the whole matrix).
pub(crate) fn on_stencil(shape: &ConvShape, n_in: usize, w: &[i8]) -> bool {
    let n_out = w.len() / n_in.max(1);
    let mut natural = vec![0usize; n_out];
    for (b, slot) in natural.iter_mut().enumerate() {
        *slot = glassbox_air::conv::natural_index(&shape.out_order, b) as usize;
    }
    let plane = shape.out_plane();
    w.chunks(n_in).zip(&natural).all(|(row, &i)| {
        let (o, y, x) = (
            i / plane,
            (i / shape.out_width) % shape.out_height,
            i % shape.out_width,
        );
        row.iter().enumerate().all(|(j, &v)| {
            if v == 0 {
                return true;
            }
            let (_, qy, qx) = shape.input_position(j);
            let dy = (qy + shape.pad_top).checked_sub(y);
            let dx = (qx + shape.pad_left).checked_sub(x);
            matches!((dy, dx), (Some(dy), Some(dx)) if dy < shape.kernel_h && dx < shape.kernel_w)
                && o < shape.out_channels
        })
    })
}

/// The weight columns of `layout` (they precede the regions and do not depend on the batch),
/// from the int8 weight columns.
pub(crate) fn static_columns(layout: &Layout, weights: &[Vec<i8>]) -> StaticColumns {
    StaticColumns {
        start: layout.weight_range().start,
        columns: weights
            .iter()
            .map(|col| col.iter().map(|&w| felt_from_i64(i64::from(w))).collect())
            .collect(),
    }
}

/// The sketch columns of weight columns committed under `root` (in layout order: `H`, `T` per
/// sketch), and the sketches.
pub(crate) fn sketch(
    descriptor: &ModelDescriptor,
    root: &[u8; 32],
    columns: &[Vec<Felt>],
) -> (Vec<Vec<Felt>>, [Felt; SKETCHES]) {
    let points = sketch_points(descriptor, root);
    let mut cols = Vec::with_capacity(2 * SKETCHES);
    let mut values = [Felt::ZERO; SKETCHES];
    for (k, &point) in points.iter().enumerate() {
        let [h, t] = sketch_columns(columns, point);
        values[k] = t.last().copied().unwrap_or(Felt::ZERO);
        cols.push(h);
        cols.push(t);
    }
    (cols, values)
}

/// Commits to weight columns (see [`weight_leaves`]); returns the tree and the extension it
/// hashes, which the prover reuses.
pub(crate) fn commit(
    columns: &[Vec<Felt>],
) -> Result<(WeightCommitment, Option<WeightExtension>), CommitmentError> {
    if columns.is_empty() {
        return Ok((WeightCommitment::from_leaves(Vec::new())?, None));
    }
    let extension = WeightExtension::new(columns);
    let tree = WeightCommitment::from_leaves(extension.leaves())?;
    Ok((tree, Some(extension)))
}

/// The weight tree's leaves: each weight column extended over the commitment domain, every row
/// of the extension hashed (see [`glassbox_air::commitment`]).
///
/// The extension is the one [`glassbox_air::commitment::weight_lde`] defines, computed the way
/// winterfell extends a main trace: all columns interpolated, then evaluated eight at a time
/// ([`WeightExtension`]), which is faster than extending column by column.
pub fn weight_leaves(columns: &[Vec<Felt>]) -> Vec<[u8; 32]> {
    if columns.is_empty() {
        return Vec::new();
    }
    WeightExtension::new(columns).leaves()
}

#[cfg(test)]
mod tests {
    use glassbox_air::commitment::{weight_lde, weight_leaf, WEIGHT_BLOWUP};
    use glassbox_air::Digit;

    use super::*;

    #[test]
    fn orders_that_are_sums_of_bit_weights_become_digits() {
        // natural: one digit
        let natural: Vec<u32> = (0..64).collect();
        assert_eq!(
            order_digits(&natural),
            Some(vec![Digit { bits: 6, coef: 1 }])
        );
        // 2×2 windows of a 4×4 plane made consecutive: bits [dx, dy, px, py]
        let pooled: Vec<u32> = (0..16u32)
            .map(|b| (b & 1) + 4 * ((b >> 1) & 1) + 2 * ((b >> 2) & 1) + 8 * (b >> 3))
            .collect();
        let digits = order_digits(&pooled).unwrap();
        assert_eq!(
            digits,
            vec![
                Digit { bits: 1, coef: 1 },
                Digit { bits: 1, coef: 4 },
                Digit { bits: 1, coef: 2 },
                Digit { bits: 1, coef: 8 },
            ]
        );
        assert!(glassbox_air::conv::order_is_valid(&digits, 16));
        // not a sum of bit weights, or not a power of two long
        let mut swapped = natural.clone();
        swapped.swap(1, 2);
        assert_eq!(order_digits(&swapped), None);
        assert_eq!(order_digits(&natural[..48]), None);
    }

    #[test]
    fn weight_leaves_hash_the_rows_of_weight_lde() {
        let columns: Vec<Vec<Felt>> = (0..11u64)
            .map(|c| {
                (0..16u64)
                    .map(|r| Felt::new(c * 1000 + r * r + 7))
                    .collect()
            })
            .collect();
        let lde: Vec<Vec<Felt>> = columns.iter().map(|c| weight_lde(c)).collect();
        let expected: Vec<[u8; 32]> = (0..16 * WEIGHT_BLOWUP)
            .map(|i| weight_leaf(&lde.iter().map(|c| c[i]).collect::<Vec<_>>()))
            .collect();
        assert_eq!(weight_leaves(&columns), expected);
        assert!(weight_leaves(&[]).is_empty());
    }
}
