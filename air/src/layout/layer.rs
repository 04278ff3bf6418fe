//! Where a layer's weights go: its blocks, weight columns and per-block factor.

use alloc::vec::Vec;

use crate::conv::{natural_order, ConvShape, Digit, PatchShape};
use crate::descriptor::{DescriptorError, LayerDescriptor};

use super::counter::Counter;

/// Placement of one layer's weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerLayout {
    /// Input dimension.
    pub n_in: usize,
    /// Output dimension.
    pub n_out: usize,
    /// Number of blocks (`n_in` rounded up to a power of two).
    pub blocks: usize,
    /// Rows per block.
    pub block_len: usize,
    /// Weight columns (`ceil(group_out / block_len)`; the kernel taps of a stencil layer).
    pub k: usize,
    /// Block-diagonal groups (1 for a dense layer).
    pub groups: usize,
    /// Inputs per group (blocks per group).
    pub group_in: usize,
    /// Outputs per group.
    pub group_out: usize,
    /// First weight column.
    pub w_start: usize,
    /// The convolution of a stencil layer.
    pub conv: Option<ConvShape>,
    /// The shape of a patch layer.
    pub patch: Option<PatchShape>,
    /// Physical output `b` is natural output `natural_index(out_order, b)` (the identity but for
    /// pooled stencil layers).
    pub out_order: Vec<Digit>,
    /// The per-block factor column of a grouped (`ρ^(g·group_out)`), stencil (`ρ^(y·Wo + x)`) or
    /// patch (`ρ^q` for position `q` in its plane) layer.
    pub factor: Option<Counter>,
}

impl LayerLayout {
    /// The shift of this layer's output exponents (`ρ^(1 + shift + i)` for output `i`; nonzero
    /// only for stencil layers, see [`ConvShape::exponent_shift`]).
    pub fn out_shift(&self) -> i64 {
        self.conv.as_ref().map_or(0, |c| c.exponent_shift())
    }

    /// Rows covered by one input plane of a patch layer (`None` for other layers).
    pub fn plane_span(&self) -> Option<usize> {
        self.patch.as_ref().map(|p| p.plane * self.block_len)
    }

    /// Rows covered by one group's blocks (`group_in · block_len`; the whole trace if dense).
    pub fn group_span(&self) -> usize {
        if self.groups > 1 {
            self.group_in * self.block_len
        } else {
            self.block_len
        }
    }
}

impl LayerLayout {
    /// Places layer `l` (`layer`) in a trace of `n` rows, its weight columns from `w_start` on.
    ///
    /// # Errors
    /// A stencil layer with more output channels than rows per block.
    pub(super) fn place(
        l: usize,
        layer: &LayerDescriptor,
        n: usize,
        w_start: usize,
    ) -> Result<Self, DescriptorError> {
        let blocks = layer.n_in.next_power_of_two();
        let block_len = n / blocks;
        // a patch layer's blocks hold one kernel cell per output plane
        let group_out = match &layer.patch {
            Some(shape) => shape.out_channels,
            None => layer.n_out / layer.groups,
        };
        let group_in = layer.n_in / layer.groups;
        let (k, out_order, factor) = match (&layer.conv, &layer.patch) {
            (None, Some(shape)) => {
                // block (π, s) holds the kernel cells of offset s, one per output plane
                let factor = Counter::new(0, &shape.position_order(blocks), block_len);
                let k = shape.out_channels.div_ceil(block_len);
                (k, shape.out_order.clone(), Some(factor))
            }
            (Some(shape), _) => {
                // one row per output channel in every block
                if shape.out_channels > block_len {
                    return Err(DescriptorError::Layout { layer: l });
                }
                let shift = shape.exponent_shift();
                let factor = Counter::new(shift, &shape.input_order(blocks), block_len);
                (shape.taps(), shape.out_order.clone(), Some(factor))
            }
            (None, None) => {
                let factor = (layer.groups > 1).then(|| {
                    let order = [
                        Digit {
                            bits: group_in.trailing_zeros(),
                            coef: 0,
                        },
                        Digit {
                            bits: (blocks / group_in).trailing_zeros(),
                            coef: group_out as u64,
                        },
                    ];
                    Counter::new(0, &order, block_len)
                });
                let order = natural_order(layer.n_out.next_power_of_two());
                (group_out.div_ceil(block_len), order, factor)
            }
        };
        Ok(Self {
            n_in: layer.n_in,
            n_out: layer.n_out,
            blocks,
            block_len,
            k,
            groups: layer.groups,
            group_in,
            group_out,
            w_start,
            conv: layer.conv.clone(),
            patch: layer.patch.clone(),
            out_order,
            factor,
        })
    }
}
