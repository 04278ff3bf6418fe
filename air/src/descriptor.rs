//! The public description of a compiled model (its digest is in [`crate::digest`]).

use alloc::vec::Vec;
use core::fmt;

use crate::conv::{natural_index, ConvShape, PatchShape};
use crate::encoding::InputEncoding;
use crate::field::{felt_from_i64, Felt};
use crate::limits::{
    MAX_BIAS, MAX_DIM, MAX_LAYERS, MAX_MULTIPLIER, MAX_TRACE_LEN, RANGE_TABLE_SIZE,
};
use crate::runs::{hashed_as_runs, runs, DIGEST_RUNS_MARK};
use crate::table::{ActivationTable, DIGEST_TABLE_MARK};

/// Version of the descriptor encoding; part of every digest.
pub const DESCRIPTOR_VERSION: u64 = 5;

/// The value in a layer's `groups` field (digest and envelope) that marks a patch layer.
pub const PATCH_MARK: u64 = u32::MAX as u64;

/// One dense layer `y = W·x + b` as the verifier sees it: no weights, only shapes, the bias and
/// the requantization multiplier (hidden layers) that maps accumulators to the next activations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Input dimension.
    pub n_in: usize,
    /// Output dimension.
    pub n_out: usize,
    /// `Some(M)` for hidden layers (`1 <= M <` [`MAX_MULTIPLIER`]), `None` for the output layer.
    pub multiplier: Option<u32>,
    /// Integer bias, one per output.
    pub bias: Vec<i64>,
    /// Block-diagonal groups: output `i` reads only the inputs of its group
    /// (`n_in / groups` of them, a power of two when `groups > 1`). 1 for a dense layer.
    pub groups: usize,
    /// `Some` for a convolution stored as a stencil layer (see [`crate::conv`]); `groups` is 1.
    pub conv: Option<ConvShape>,
    /// `Some` for a convolution stored as a patch layer (see [`crate::conv::PatchShape`]): its
    /// weights are `out_channels` kernel rows of `n_in` cells; `groups` is 1 and `conv` `None`.
    pub patch: Option<PatchShape>,
    /// `Some` for a hidden layer whose outputs pass through an activation table (see
    /// [`crate::table`]): the next layer reads `T[x]` for each clamped output `x`.
    pub table: Option<ActivationTable>,
}

impl LayerDescriptor {
    /// Outputs of this layer per input of the next: [`POOL_WINDOW`](crate::conv::POOL_WINDOW)
    /// for a pooled patch layer, else 1.
    pub fn window(&self) -> usize {
        self.patch.as_ref().map_or(1, PatchShape::window)
    }
}

/// The public part of a compiled model: everything the verifier needs except the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDescriptor {
    /// Number of trace rows the model's layout uses (a power of two).
    pub trace_len: usize,
    /// The dense layers, input first.
    pub layers: Vec<LayerDescriptor>,
    /// Real value of one input unit (inputs are int8).
    pub input_scale: f64,
    /// Real value of one output unit (outputs are raw accumulators).
    pub output_scale: f64,
    /// How raw features become the int8 inputs (committed like everything else here).
    pub input_encoding: InputEncoding,
}

/// Why a descriptor is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DescriptorError {
    /// The trace length is not a power of two in the supported range.
    TraceLength(usize),
    /// No layers, or more than [`MAX_LAYERS`].
    LayerCount(usize),
    /// A dimension is zero, too large, or does not match its neighbour.
    Shape {
        /// Layer index.
        layer: usize,
    },
    /// The bias vector has the wrong length or a value out of range.
    Bias {
        /// Layer index.
        layer: usize,
    },
    /// A hidden layer lacks a multiplier, the output layer has one, or it is out of range.
    Multiplier {
        /// Layer index.
        layer: usize,
    },
    /// A layer's blocks do not fit the trace (too few rows per block).
    Layout {
        /// Layer index.
        layer: usize,
    },
    /// A scale is not finite and positive.
    Scale,
    /// The input encoding is malformed or does not fit the input width.
    Encoding(&'static str),
    /// Verifying the layout would cost more than [`MAX_VERIFIER_WORK`](crate::limits::MAX_VERIFIER_WORK) field operations
    /// beyond the STARK (see [`crate::Layout::verifier_work`]).
    VerifierCost {
        /// Estimated operations.
        work: usize,
    },
    /// The trace would need more than 255 columns (main plus auxiliary).
    TooWide {
        /// Columns needed.
        columns: usize,
    },
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TraceLength(n) => {
                write!(f, "trace length {n} is not a power of two in 256..=2^20")
            }
            Self::LayerCount(n) => write!(f, "{n} layers; expected 1..={MAX_LAYERS}"),
            Self::Shape { layer } => write!(f, "layer {layer} has an unsupported shape"),
            Self::Bias { layer } => write!(f, "layer {layer} has a bias of wrong length or range"),
            Self::Multiplier { layer } => {
                write!(f, "layer {layer} has an invalid requantization multiplier")
            }
            Self::Layout { layer } => {
                write!(f, "layer {layer} does not fit a trace of this length")
            }
            Self::Scale => write!(f, "a scale is not finite and positive"),
            Self::Encoding(why) => write!(f, "{why}"),
            Self::VerifierCost { work } => {
                write!(f, "verifying this layout would take about {work} field operations beyond the STARK")
            }
            Self::TooWide { columns } => {
                write!(f, "the trace would need {columns} columns; at most 255 fit")
            }
        }
    }
}

impl ModelDescriptor {
    /// Checks every bound the AIR relies on.
    ///
    /// # Errors
    /// The first violated bound.
    pub fn validate(&self) -> Result<(), DescriptorError> {
        let n = self.trace_len;
        if !n.is_power_of_two() || !(RANGE_TABLE_SIZE..=MAX_TRACE_LEN).contains(&n) {
            return Err(DescriptorError::TraceLength(n));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(DescriptorError::LayerCount(self.layers.len()));
        }
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.n_in == 0 || layer.n_out == 0 || layer.n_in > MAX_DIM || layer.n_out > MAX_DIM
            {
                return Err(DescriptorError::Shape { layer: l });
            }
            // a pooled layer's outputs are read a window at a time
            if l > 0 && self.layers[l - 1].n_out != layer.n_in * self.layers[l - 1].window() {
                return Err(DescriptorError::Shape { layer: l });
            }
            let g = layer.groups;
            if g == 0
                || !layer.n_in.is_multiple_of(g)
                || !layer.n_out.is_multiple_of(g)
                || (g > 1 && !(layer.n_in / g).is_power_of_two())
            {
                return Err(DescriptorError::Shape { layer: l });
            }
            if let Some(shape) = &layer.conv {
                if g != 1 || !shape.is_valid(layer.n_in, layer.n_out) {
                    return Err(DescriptorError::Shape { layer: l });
                }
            }
            if let Some(shape) = &layer.patch {
                // a pooled layer is hidden and plain: its outputs are activations the pool unit
                // compares
                let pool_ok = !shape.pooled || (l < last && layer.table.is_none());
                if g != 1
                    || layer.conv.is_some()
                    || !shape.is_valid(layer.n_in, layer.n_out)
                    || !pool_ok
                {
                    return Err(DescriptorError::Shape { layer: l });
                }
            }
            if layer.bias.len() != layer.n_out || layer.bias.iter().any(|b| b.abs() >= MAX_BIAS) {
                return Err(DescriptorError::Bias { layer: l });
            }
            let ok = match (l == last, layer.multiplier) {
                (true, None) => true,
                (false, Some(m)) => (1..MAX_MULTIPLIER).contains(&m),
                _ => false,
            };
            if !ok || (layer.table.is_some() && layer.multiplier.is_none()) {
                return Err(DescriptorError::Multiplier { layer: l });
            }
            // every block needs at least two rows (the Horner sums finish on the second-to-last),
            // or one row where the last block is outside the statement (see `one_row_blocks_ok`)
            let rows = n / layer.n_in.next_power_of_two();
            if rows == 0 || rows == 1 && !(l > 0 && self.one_row_blocks_ok(l)) {
                return Err(DescriptorError::Layout { layer: l });
            }
        }
        let scales_ok = |s: f64| s.is_finite() && s > 0.0;
        if !scales_ok(self.input_scale) || !scales_ok(self.output_scale) {
            return Err(DescriptorError::Scale);
        }
        self.input_encoding
            .validate(self.input_len())
            .map_err(|e| DescriptorError::Encoding(e.0))
    }

    /// True if layer `l`'s input region may have one-row blocks: its last block, which the
    /// accumulator never adds (see `units::product::constraints::accumulator`), is a padding
    /// input of layer `l` (a zero weight column) and the padding output of layer `l − 1` that
    /// its output order puts there.
    fn one_row_blocks_ok(&self, l: usize) -> bool {
        let (Some(prev), Some(layer)) = (self.layers.get(l.wrapping_sub(1)), self.layers.get(l))
        else {
            return false;
        };
        let last = layer.n_in.next_power_of_two() - 1;
        let order = match (&prev.conv, &prev.patch) {
            (Some(c), _) => Some(&c.out_order),
            (None, Some(p)) => Some(&p.out_order),
            (None, None) => None,
        };
        // every output of the last block's window is a padding output
        let window = prev.window();
        let natural = |b: usize| order.map_or(b as u64, |o| natural_index(o, b));
        layer.n_in <= last && (0..window).all(|k| natural(last * window + k) >= prev.n_out as u64)
    }

    /// Number of model inputs per sample.
    pub fn input_len(&self) -> usize {
        self.layers.first().map_or(0, |l| l.n_in)
    }

    /// The activation tables, tabled layers in order (table `k` of the layout is the `k`-th).
    pub fn tables(&self) -> Vec<&ActivationTable> {
        self.layers
            .iter()
            .filter_map(|l| l.table.as_ref())
            .collect()
    }

    /// Number of model outputs per sample.
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }

    /// The descriptor as field elements, in the order the digest absorbs them.
    pub fn to_elements(&self) -> Vec<Felt> {
        let mut out = Vec::new();
        out.push(Felt::new(DESCRIPTOR_VERSION));
        out.push(Felt::new(self.trace_len as u64));
        out.push(Felt::new(self.layers.len() as u64));
        for bits in [self.input_scale.to_bits(), self.output_scale.to_bits()] {
            out.push(Felt::new(bits & 0xffff_ffff));
            out.push(Felt::new(bits >> 32));
        }
        for layer in &self.layers {
            out.push(Felt::new(layer.n_in as u64));
            out.push(Felt::new(layer.n_out as u64));
            // a tabled layer's multiplier carries the mark; its table follows the bias
            let mark = if layer.table.is_some() {
                DIGEST_TABLE_MARK
            } else {
                0
            };
            // biases repeated enough are hashed as runs, marked likewise (see `crate::runs`)
            let bias_runs = runs(&layer.bias);
            let as_runs = hashed_as_runs(&bias_runs, layer.bias.len());
            let mark = mark + if as_runs { DIGEST_RUNS_MARK } else { 0 };
            out.push(Felt::new(u64::from(layer.multiplier.unwrap_or(0)) + mark));
            let order = |out: &mut Vec<Felt>, digits: &[crate::conv::Digit]| {
                out.push(Felt::new(digits.len() as u64));
                for d in digits {
                    out.push(Felt::new(u64::from(d.bits)));
                    out.push(Felt::new(d.coef));
                }
            };
            match (&layer.conv, &layer.patch) {
                // groups is at least 1, so 0 marks a stencil layer and its shape follows
                (Some(shape), _) => {
                    out.push(Felt::new(0));
                    out.extend(shape.fields().map(|v| Felt::new(v as u64)));
                    order(&mut out, &shape.out_order);
                }
                // groups is at most MAX_DIM, so PATCH_MARK marks a patch layer
                (None, Some(shape)) => {
                    out.push(Felt::new(PATCH_MARK));
                    out.extend(shape.fields().map(|v| Felt::new(v as u64)));
                    order(&mut out, &shape.out_order);
                }
                (None, None) => out.push(Felt::new(layer.groups as u64)),
            }
            if as_runs {
                out.push(Felt::new(bias_runs.len() as u64));
                for &(len, b) in &bias_runs {
                    out.push(Felt::new(len as u64));
                    out.push(felt_from_i64(b));
                }
            } else {
                out.extend(layer.bias.iter().map(|&b| felt_from_i64(b)));
            }
            if let Some(table) = &layer.table {
                out.extend(table.values().iter().map(|&v| felt_from_i64(v)));
            }
        }
        self.input_encoding.to_elements(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn two_layers(multiplier: Option<u32>) -> ModelDescriptor {
        ModelDescriptor {
            trace_len: 256,
            layers: vec![
                LayerDescriptor {
                    n_in: 4,
                    n_out: 3,
                    multiplier,
                    bias: vec![0; 3],
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
                LayerDescriptor {
                    n_in: 3,
                    n_out: 2,
                    multiplier: None,
                    bias: vec![0; 2],
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
            ],
            input_scale: 1.0,
            output_scale: 1.0,
            input_encoding: InputEncoding::Symmetric,
        }
    }

    #[test]
    fn multipliers_up_to_two_to_the_24_are_accepted() {
        for m in [1, 65_535, 65_536, 255 << 16, MAX_MULTIPLIER - 1] {
            assert_eq!(two_layers(Some(m)).validate(), Ok(()), "M = {m}");
        }
        for m in [None, Some(0), Some(MAX_MULTIPLIER), Some(u32::MAX)] {
            assert_eq!(
                two_layers(m).validate(),
                Err(DescriptorError::Multiplier { layer: 0 }),
                "M = {m:?}"
            );
        }
    }

    #[test]
    fn repeated_biases_are_hashed_as_runs_and_every_bias_still_counts() {
        let wide = |bias: Vec<i64>| {
            let mut d = two_layers(Some(1));
            d.layers[0].n_out = bias.len();
            d.layers[0].bias = bias;
            d.layers[1].n_in = d.layers[0].n_out;
            d
        };
        let channels: Vec<i64> = (0..4).flat_map(|c| vec![c - 2; 256]).collect();
        let plain = wide(vec![0; 3]).to_elements().len();
        let runs = wide(channels.clone()).to_elements();
        // 1024 biases as 4 runs: the count and two elements per run, not 1024 elements
        assert_eq!(runs.len(), plain + 1 + 2 * 4 - 3);
        let mark = Felt::new(1 + DIGEST_RUNS_MARK);
        assert!(runs.contains(&mark));
        // one bias changed inside a run, or a run moved by one, changes the elements
        for (i, v) in [(300, 7), (511, 0), (512, -1)] {
            let mut changed = channels.clone();
            changed[i] = v;
            assert_ne!(wide(changed).to_elements(), runs, "bias {i} = {v}");
        }
        // distinct biases are hashed as before, with no mark
        let distinct = wide((0..16).collect()).to_elements();
        assert!(!distinct.contains(&mark));
        assert_eq!(distinct.len(), plain - 3 + 16);
    }

    #[test]
    fn one_row_blocks_need_a_padding_last_block() {
        // 4 → 200 → 2 in a 256-row trace: the hidden region's 256 blocks are single rows, and
        // block 255 is a padding input of layer 1 and no output of layer 0
        let mut d = two_layers(Some(1));
        d.layers[0].n_out = 200;
        d.layers[0].bias = vec![0; 200];
        d.layers[1].n_in = 200;
        assert_eq!(d.validate(), Ok(()));
        // 256 real activations: the last block would be a real one, never added
        d.layers[0].n_out = 256;
        d.layers[0].bias = vec![0; 256];
        d.layers[1].n_in = 256;
        assert_eq!(d.validate(), Err(DescriptorError::Layout { layer: 1 }));
        // the model inputs never have one-row blocks
        let mut d = two_layers(Some(1));
        d.layers[0].n_in = 200;
        assert_eq!(d.validate(), Err(DescriptorError::Layout { layer: 0 }));
    }

    #[test]
    fn one_row_blocks_follow_the_output_order() {
        // a patch layer of 3 planes of 64 (192 outputs) whose order puts output 0 in the
        // last physical block is refused; the natural order puts a padding output there
        let patch = |order| PatchShape::from_fields([1, 64, 3], order);
        let reversed = vec![crate::conv::Digit { bits: 8, coef: 0 }];
        let mut d = two_layers(Some(1));
        d.layers[0].n_in = 64;
        d.layers[0].n_out = 192;
        d.layers[0].bias = vec![0; 192];
        d.layers[1].n_in = 192;
        d.layers[0].patch = Some(patch(crate::conv::natural_order(256)));
        assert!(d.one_row_blocks_ok(1));
        d.layers[0].patch = Some(patch(reversed));
        assert!(!d.one_row_blocks_ok(1));
    }

    #[test]
    fn a_pooled_layer_hands_on_one_input_per_window_of_four() {
        // a patch layer of 3 planes of 64 (192 outputs), pooled: the next layer reads 48
        let pooled = |order| PatchShape::from_fields([1, 64, 3 | crate::conv::POOL_MARK], order);
        let mut d = two_layers(Some(1));
        d.layers[0].n_in = 64;
        d.layers[0].n_out = 192;
        d.layers[0].bias = vec![0; 192];
        d.layers[1].n_in = 48;
        d.layers[0].patch = Some(pooled(crate::conv::natural_order(256)));
        assert_eq!(d.layers[0].window(), 4);
        assert_eq!(d.validate(), Ok(()));
        // the mark round-trips, and an unpooled layer's fields are unchanged
        let Some(shape) = d.layers[0].patch.clone() else {
            panic!("a patch layer")
        };
        assert!(shape.pooled);
        assert_eq!(shape.out_channels, 3);
        assert_eq!(
            PatchShape::from_fields(shape.fields(), shape.out_order.clone()),
            shape
        );
        let plain = PatchShape {
            pooled: false,
            ..shape.clone()
        };
        assert_eq!(plain.fields(), [1, 64, 3]);
        // a linear layer's mark round-trips beside it
        let linear = PatchShape {
            linear: true,
            ..shape.clone()
        };
        let back = PatchShape::from_fields(linear.fields(), linear.out_order.clone());
        assert_eq!(back, linear);
        assert!(back.pooled && back.linear && back.out_channels == 3);
        // and the digest tells them apart
        let mut unpooled = d.clone();
        unpooled.layers[0].patch = Some(plain);
        unpooled.layers[1].n_in = 192;
        assert_ne!(unpooled.to_elements(), d.to_elements());
        // the next layer must read one input per window
        d.layers[1].n_in = 192;
        assert_eq!(d.validate(), Err(DescriptorError::Shape { layer: 1 }));
        d.layers[1].n_in = 48;
        // a pooled layer is hidden and untabled
        let mut tabled = d.clone();
        tabled.layers[0].table = crate::table::ActivationTable::new((0..256).collect());
        assert!(tabled.layers[0].table.is_some());
        assert_eq!(tabled.validate(), Err(DescriptorError::Shape { layer: 0 }));
        let mut last = d.clone();
        last.layers.truncate(1);
        last.layers[0].multiplier = None;
        assert_eq!(last.validate(), Err(DescriptorError::Shape { layer: 0 }));
        // one-row blocks need every output of the last window to be padding: 48 windows in 64
        // blocks put outputs 252..256 there, padding in the natural order
        assert!(d.one_row_blocks_ok(1));
    }
}
