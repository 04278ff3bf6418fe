//! Where a layer's inputs go: one region per layer, holding the model inputs (region 0) or the
//! requantization witnesses of the previous layer's outputs, one lane per batch sample. After a
//! pooled layer a lane holds a window: the witnesses of its four outputs and their maximum, which
//! the layer reads (see [`crate::units::pool`]).

use crate::conv::{natural_order, windows_of};
use crate::descriptor::{DescriptorError, ModelDescriptor};

use super::activation::{ActivationCells, ACT_CELLS};
use super::counter::Counter;
use super::layer::LayerLayout;

/// What a region holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// The public model inputs (one cell per lane).
    Input,
    /// Requantization witnesses of the outputs of `layer` (six cells per lane).
    Activation {
        /// The layer whose outputs these are.
        layer: usize,
        /// That layer's requantization multiplier.
        multiplier: u32,
        /// The index among the layout's tables of that layer's activation table, if it has one
        /// (then each activation has a seventh cell, `y = T[x]`, which the next layer reads).
        table: Option<usize>,
        /// Activations per lane: 1, or a pooled layer's window (then a lane's cells are the
        /// window's activations and their maximum `m`, which the next layer reads).
        window: usize,
    },
}

/// Placement of one layer's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionLayout {
    /// What the cells are.
    pub kind: RegionKind,
    /// Rows per block (equal to the consuming layer's `block_len`).
    pub block_len: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Batch lanes per row (`ceil(L / block_len)`).
    pub lanes_per_row: usize,
    /// Rows at the start of every block that hold only lanes beyond the batch capacity.
    pub dead_rows: usize,
    /// The per-block challenge powers `A` (`δ^(j+1)`, or `ρ_(l−1)^(1+S+i)` for the natural index
    /// `i` of the previous layer's output in block `j` and its shift `S`).
    pub powers: Counter,
    /// First column.
    pub start: usize,
}

impl RegionLayout {
    /// Cells per lane (six per activation, seven if it passes through a table; a window's
    /// activations and their maximum).
    pub fn cells(&self) -> usize {
        match self.kind {
            RegionKind::Input => 1,
            RegionKind::Activation { table: Some(_), .. } => ACT_CELLS + 1,
            RegionKind::Activation { window: 1, .. } => ACT_CELLS,
            RegionKind::Activation { window, .. } => window * ACT_CELLS + 1,
        }
    }

    /// Activations per lane (1 unless the region holds a pooled layer's windows; 0 for the
    /// model inputs).
    pub fn window(&self) -> usize {
        match self.kind {
            RegionKind::Input => 0,
            RegionKind::Activation { window, .. } => window,
        }
    }

    /// The cells of activation `k` of the window in lane column `t`.
    pub fn window_activation(&self, t: usize, k: usize) -> ActivationCells {
        ActivationCells::at(self.lane_col(t) + k * ACT_CELLS)
    }

    /// The column of the window maximum `m` in lane column `t` (`None` unless the region holds
    /// a pooled layer's windows).
    pub fn window_max(&self, t: usize) -> Option<usize> {
        (self.window() > 1).then(|| self.lane_col(t) + self.window() * ACT_CELLS)
    }

    /// The column of the table output `y` of the activation in lane column `t` (`None` unless
    /// the region's activations pass through a table).
    pub fn table_output(&self, t: usize) -> Option<usize> {
        match self.kind {
            RegionKind::Activation { table: Some(_), .. } => Some(self.lane_col(t) + ACT_CELLS),
            _ => None,
        }
    }

    /// First column of lane column `t`.
    pub fn lane_col(&self, t: usize) -> usize {
        self.start + t * self.cells()
    }

    /// The cells of the activation in lane column `t` (an activation region's).
    pub fn activation(&self, t: usize) -> ActivationCells {
        ActivationCells::at(self.lane_col(t))
    }

    /// Lanes this region holds (at least the layout's batch capacity).
    pub fn lanes(&self) -> usize {
        self.lanes_per_row * self.block_len
    }

    /// Whether the Horner sums over this region restart after block row `p` (the last row of a
    /// block, or the last dead row).
    pub fn restarts_after(&self, p: usize) -> bool {
        p == self.block_len - 1 || p + 1 == self.dead_rows
    }

    /// True if every block holds one live lane, on its last row (a one-sample proof): the lane
    /// sums `V` and `Q` over the block are then that row's values, and need no column.
    pub fn single_live_row(&self) -> bool {
        self.lanes_per_row == 1 && self.dead_rows + 1 == self.block_len
    }

    /// Columns this region occupies.
    pub fn width(&self) -> usize {
        self.lanes_per_row * self.cells()
    }
}

impl RegionLayout {
    /// Places region `l` (the inputs of `layers[l]`) for `capacity` live lanes, from column
    /// `start` on.
    ///
    /// # Errors
    /// An activation region whose extra lanes would not fill whole rows.
    pub(super) fn place(
        l: usize,
        descriptor: &ModelDescriptor,
        layers: &[LayerLayout],
        capacity: usize,
        start: usize,
    ) -> Result<Self, DescriptorError> {
        let layer = &layers[l];
        let kind = if l == 0 {
            RegionKind::Input
        } else {
            let multiplier = descriptor.layers[l - 1].multiplier.unwrap_or(0);
            let tabled = |d: &crate::descriptor::LayerDescriptor| d.table.is_some();
            let table = tabled(&descriptor.layers[l - 1]).then(|| {
                descriptor.layers[..l - 1]
                    .iter()
                    .filter(|d| tabled(d))
                    .count()
            });
            RegionKind::Activation {
                layer: l - 1,
                multiplier,
                table,
                window: descriptor.layers[l - 1].window(),
            }
        };
        let lanes_per_row = capacity.div_ceil(layer.block_len);
        let extra = lanes_per_row * layer.block_len - capacity;
        if l > 0 && !extra.is_multiple_of(lanes_per_row) {
            return Err(DescriptorError::Layout { layer: l });
        }
        // block j's power is that of the first output of its window
        let (order, shift) = match l {
            0 => (natural_order(layer.blocks), 0),
            _ => {
                let window = descriptor.layers[l - 1].window();
                let order = windows_of(&layers[l - 1].out_order, window.trailing_zeros());
                (order, layers[l - 1].out_shift())
            }
        };
        Ok(Self {
            kind,
            block_len: layer.block_len,
            blocks: layer.blocks,
            lanes_per_row,
            dead_rows: extra / lanes_per_row,
            powers: Counter::new(1 + shift, &order, layer.block_len),
            start,
        })
    }
}
