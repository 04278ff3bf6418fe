//! A quantized model compiled to the AIR's layout, with its digest.

use std::sync::Arc;

use glassbox_air::{
    ConvShape, Digit, Felt, LayerDescriptor, LayerLayout, Layout, ModelDescriptor, ModelDigest,
    WeightCommitment, RANGE_TABLE_SIZE,
};
use glassbox_model::{QuantizedDense, QuantizedModel};

/// Why a model cannot be compiled or a batch cannot be executed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    /// The model does not fit any supported trace layout.
    #[error("the model does not fit a provable layout: {0}")]
    Layout(String),
    /// No trace the compiler considers holds the requested samples per proof.
    #[error("one proof holds at most {max} samples of this model; {wanted} were asked for")]
    ProofBatch {
        /// `proof_batch` asked for.
        wanted: usize,
        /// Largest batch any considered trace holds.
        max: usize,
    },
    /// A weight or bias array has the wrong size.
    #[error("layer {layer} has {got} weights; expected {expected}")]
    WeightCount {
        /// Layer index.
        layer: usize,
        /// `n_out · n_in / groups`.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// An input sample has the wrong length.
    #[error("sample {sample} has {got} values; the model takes {expected}")]
    InputLength {
        /// Sample index.
        sample: usize,
        /// Model input length.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// A quantized input is outside int8.
    #[error("sample {sample} has quantized value {value} outside -128..=127")]
    InputRange {
        /// Sample index.
        sample: usize,
        /// The value.
        value: i64,
    },
    /// An activation leaves the range the proof can represent.
    #[error("sample {sample}: activation {index} of layer {layer} overflows the provable range")]
    ActivationOverflow {
        /// Sample index.
        sample: usize,
        /// Layer index.
        layer: usize,
        /// Output index.
        index: usize,
    },
    /// The batch is empty or larger than one proof holds.
    #[error("a proof holds 1..={max} samples of this model; got {got}")]
    BatchSize {
        /// Largest batch.
        max: usize,
        /// Requested.
        got: usize,
    },
}

/// A compiled model: descriptor, weights and the commitment to both.
#[derive(Clone, Debug)]
pub struct Program {
    /// The public description (shapes, biases, multipliers, trace length).
    pub descriptor: ModelDescriptor,
    /// Per layer, row-major `[n_out][n_in]` int8 weights.
    pub weights: Vec<Vec<i8>>,
    digest: ModelDigest,
    /// The weight sketches the digest carries.
    pub(crate) sketch: [Felt; glassbox_air::commitment::SKETCHES],
    /// The weight and sketch columns, which depend on the weights only: computed once here and
    /// copied into every trace.
    pub(crate) static_columns: Arc<StaticColumns>,
    /// The Merkle commitment to the weight columns, opened by every proof.
    pub(crate) commitment: Arc<WeightCommitment>,
}

impl PartialEq for Program {
    fn eq(&self, other: &Self) -> bool {
        // the commitment is a function of the weights and the descriptor
        self.descriptor == other.descriptor
            && self.weights == other.weights
            && self.digest == other.digest
    }
}

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

impl Program {
    /// Compiles `model`, choosing the trace length (and, for convolutions, stencil or dense
    /// storage). With [`QuantizedModel::proof_batch`] `= Some(k)`, the layout that holds `k`
    /// samples per proof with the fewest committed cells; without, the one that minimises the
    /// committed cells of a single-inference proof among those that fit
    /// [`DEFAULT_PROOF_BATCH`] samples per proof (or, failing that, any sample).
    ///
    /// # Errors
    /// Inconsistent weight arrays, no layout fits, or none holds `proof_batch` samples.
    pub fn compile(model: &QuantizedModel) -> Result<Self, CompileError> {
        let layers: Vec<LayerDescriptor> = model
            .layers
            .iter()
            .map(|l| LayerDescriptor {
                n_in: l.n_in,
                n_out: l.n_out,
                multiplier: l.multiplier,
                bias: l.bias.clone(),
                groups: l.groups,
                conv: None,
            })
            .collect();
        for (l, layer) in model.layers.iter().enumerate() {
            let expected = layer.n_out * (layer.n_in / layer.groups.max(1));
            if layer.weights.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: layer.weights.len(),
                });
            }
        }
        // convolutions stored as stencils where the AIR can, or every layer dense: whichever
        // layout is cheaper
        let stencil: Vec<LayerDescriptor> = layers
            .iter()
            .zip(&model.layers)
            .map(|(d, q)| LayerDescriptor {
                conv: stencil_shape(q),
                ..d.clone()
            })
            .collect();
        let mut variants = vec![layers];
        if stencil != variants[0] {
            variants.push(stencil);
        }
        let mut candidates = Vec::new();
        for layers in variants {
            let mut n = RANGE_TABLE_SIZE;
            while n <= MAX_COMPILE_TRACE_LEN {
                candidates.push(ModelDescriptor {
                    trace_len: n,
                    layers: layers.clone(),
                    input_scale: model.input_scale,
                    output_scale: model.output_scale,
                });
                n *= 2;
            }
        }
        // the batch whose proof cost is minimised: the one asked for, or a single inference
        let batch = model.proof_batch.map_or(1, |k| k as usize);
        let mut best: Option<(bool, usize, &ModelDescriptor)> = None;
        let mut last_err = String::from("no trace length tried");
        for d in &candidates {
            match Layout::new(d, batch) {
                Ok(layout) => {
                    let cost = d.trace_len * (layout.main_width + 2 * layout.aux.width + 14);
                    let roomy =
                        model.proof_batch.is_some() || Layout::new(d, DEFAULT_PROOF_BATCH).is_ok();
                    let better = match &best {
                        None => true,
                        Some((r, c, _)) => (roomy && !r) || (roomy == *r && cost < *c),
                    };
                    if better {
                        best = Some((roomy, cost, d));
                    }
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        let descriptor = match (best, model.proof_batch) {
            (Some((_, _, d)), _) => d.clone(),
            (None, Some(k)) => {
                let max = candidates.iter().map(Layout::max_batch).max().unwrap_or(0);
                if max == 0 {
                    return Err(CompileError::Layout(last_err));
                }
                return Err(CompileError::ProofBatch {
                    wanted: k as usize,
                    max,
                });
            }
            (None, None) => return Err(CompileError::Layout(last_err)),
        };
        let weights = model.layers.iter().map(|l| l.weights.clone()).collect();
        Self::with_descriptor(descriptor, weights)
    }

    /// Builds a program for an explicit descriptor (used by tests and by tools that fix the
    /// trace length).
    ///
    /// # Errors
    /// The descriptor does not validate or the weights do not match it.
    pub fn with_descriptor(
        descriptor: ModelDescriptor,
        weights: Vec<Vec<i8>>,
    ) -> Result<Self, CompileError> {
        let layout =
            Layout::new(&descriptor, 1).map_err(|e| CompileError::Layout(e.to_string()))?;
        for (l, (layer, w)) in descriptor.layers.iter().zip(&weights).enumerate() {
            let expected = layer.n_out * (layer.n_in / layer.groups);
            if w.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: w.len(),
                });
            }
            if let Some(shape) = &layer.conv {
                if !on_stencil(shape, layer.n_in, w) {
                    return Err(CompileError::Layout(format!(
                        "layer {l} has a weight off its convolution stencil"
                    )));
                }
            }
        }
        let mut static_columns =
            crate::trace::static_columns(&layout, &weight_columns(&weights, &layout));
        let commitment = crate::trace::commit(&static_columns.columns)
            .map_err(|e| CompileError::Layout(e.to_string()))?;
        let root = commitment.root();
        let (sketch_cols, sketch) =
            crate::trace::sketch(&descriptor, &root, &static_columns.columns);
        // the sketch columns follow the weight columns
        static_columns.columns.extend(sketch_cols);
        Ok(Self {
            digest: ModelDigest::compute(&descriptor, &root, &sketch),
            descriptor,
            weights,
            sketch,
            static_columns: Arc::new(static_columns),
            commitment: Arc::new(commitment),
        })
    }

    /// The 32-byte commitment to this program.
    pub fn digest(&self) -> ModelDigest {
        self.digest
    }

    /// Largest batch one proof holds.
    pub fn max_batch(&self) -> usize {
        Layout::max_batch(&self.descriptor)
    }

    /// Estimated peak memory of proving `batch` samples in one proof, in bytes: about 150 bytes
    /// per committed base-field cell (main, auxiliary counted twice, and the composition
    /// polynomial), measured with winterfell 0.13 at blowup 8 (an overestimate since the weight
    /// sponges left the trace, which keeps `--max-memory` on the safe side).
    ///
    /// # Errors
    /// The batch does not fit one proof.
    pub fn estimated_peak_bytes(&self, batch: usize) -> Result<u64, CompileError> {
        let layout = self.layout(batch)?;
        let cells = layout.trace_len * (layout.main_width + 2 * layout.aux.width + 14);
        Ok(cells as u64 * BYTES_PER_CELL + BASE_BYTES)
    }

    /// The largest batch per proof whose estimated peak memory stays within `limit` bytes
    /// (0 if not even one sample fits).
    pub fn max_batch_within(&self, limit: u64) -> usize {
        let mut best = 0;
        let mut batch = 1;
        while let Ok(bytes) = self.estimated_peak_bytes(batch) {
            if bytes > limit {
                break;
            }
            best = self
                .layout(batch)
                .map(|l| l.batch_capacity)
                .unwrap_or(batch);
            batch = best + 1;
        }
        best
    }

    /// The layout for `batch` samples.
    ///
    /// # Errors
    /// The batch is empty or too large for one proof.
    pub fn layout(&self, batch: usize) -> Result<Layout, CompileError> {
        if batch == 0 {
            return Err(CompileError::BatchSize {
                max: self.max_batch(),
                got: 0,
            });
        }
        Layout::new(&self.descriptor, batch).map_err(|_| CompileError::BatchSize {
            max: self.max_batch(),
            got: batch,
        })
    }

    /// The weight columns of `layout` (one `Vec` of `N` cells per weight column, in layout order).
    pub fn weight_columns(&self, layout: &Layout) -> Vec<Vec<i8>> {
        weight_columns(&self.weights, layout)
    }
}

/// The weight columns of `layout` for per-layer row-major `weights`.
fn weight_columns(weights: &[Vec<i8>], layout: &Layout) -> Vec<Vec<i8>> {
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
fn stencil_shape(layer: &QuantizedDense) -> Option<ConvShape> {
    let g = layer.conv.as_ref()?;
    let shape = ConvShape {
        channels: g.channels,
        height: g.height,
        width: g.width,
        copies: g.copies,
        out_channels: g.out_channels,
        out_height: g.out_height,
        out_width: g.out_width,
        kernel_h: g.kernel_h,
        kernel_w: g.kernel_w,
        pad_top: g.pad_top,
        pad_left: g.pad_left,
        out_order: order_digits(&g.out_order)?,
    };
    let ok = layer.groups == 1
        && shape.is_valid(layer.n_in, layer.n_out)
        && on_stencil(&shape, layer.n_in, &layer.weights);
    ok.then_some(shape)
}

/// `order` (the natural index of each row) as mixed-radix digits, if its length is a power of
/// two and every index is the sum of per-bit weights of its row number.
fn order_digits(order: &[u32]) -> Option<Vec<Digit>> {
    let n = order.len();
    if !n.is_power_of_two() || order.first() != Some(&0) {
        return None;
    }
    let bits = n.trailing_zeros() as usize;
    let coefs: Vec<u64> = (0..bits).map(|s| u64::from(order[1 << s])).collect();
    let linear = order.iter().enumerate().all(|(b, &v)| {
        let sum: u64 = (0..bits)
            .filter(|s| b >> s & 1 == 1)
            .map(|s| coefs[s])
            .sum();
        sum == u64::from(v)
    });
    if !linear {
        return None;
    }
    let mut digits: Vec<Digit> = Vec::new();
    for c in coefs {
        match digits.last_mut() {
            Some(d) if d.coef.checked_shl(d.bits) == Some(c) => d.bits += 1,
            _ => digits.push(Digit { bits: 1, coef: c }),
        }
    }
    Some(digits)
}

/// True if every nonzero weight of a stencil layer lies on its stencil (so the stencil columns
/// hold the whole matrix).
fn on_stencil(shape: &ConvShape, n_in: usize, w: &[i8]) -> bool {
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

/// Peak bytes per committed cell (see [`Program::estimated_peak_bytes`]).
const BYTES_PER_CELL: u64 = 150;
/// Fixed overhead of a proving process (binary, model, allocator).
const BASE_BYTES: u64 = 16 << 20;

/// Samples per proof a default compile leaves room for (see [`Program::compile`]).
pub const DEFAULT_PROOF_BATCH: usize = 64;

/// Longest trace `compile` considers (2^18 rows: about 4.7 GB of proving memory at 128 columns).
const MAX_COMPILE_TRACE_LEN: usize = 1 << 18;

#[cfg(test)]
mod tests {
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
}
