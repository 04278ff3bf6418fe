//! Which trace column holds what.
//!
//! Main segment, left to right:
//! - `table`, `multiplicity`: the LogUp range table `0..256` and how often each entry is used.
//! - the **weight columns** of every layer (layer `l` has `k_l` of them). Layer `l`'s weight matrix
//!   is laid out in `n_in_pad` blocks of `R_l = N / n_in_pad` rows; block `j` holds column `j` of
//!   `W` with output index `i = k·R − 1 − (p·k + t)` at block row `p`, column `t` (descending, so a
//!   Horner pass in row order gives `Σ_i ρ^i W_ij`). Padding cells are zero and committed. A
//!   block-diagonal layer with `G` groups stores only the outputs of block `j`'s group
//!   (`i = g·m + i'` with `m = n_out / G`, `i'` placed as above), so it costs `n_in·m` cells; an
//!   auxiliary column supplies the factor `ρ^(g·m)`.
//!   The weight columns are committed outside the AIR (see [`crate::commitment`]).
//! - the **weight sketch**: per sketch, a running Horner sum `H` over the rows' weight cells and
//!   its row total `T` (see [`crate::commitment`]).
//! - one **region** per layer input: region 0 holds the model inputs, region `l ≥ 1` holds the
//!   requantization witnesses of layer `l − 1`'s outputs, which are layer `l`'s inputs. Region `l`
//!   uses the same blocks as layer `l`'s weights; block `j`, row `p`, lane column `t` holds batch
//!   lane `b = B_l − 1 − (p·xc + t)`, where `B_l = xc·R_l` is the lanes the region stores.
//!
//! **Live lanes.** A proof's batch capacity `L` (its live lanes) is the same for every region,
//! but a region stores `B_l ≥ L` lanes: at least one lane column, and block lengths differ from
//! layer to layer. The `B_l − L` extra lanes fill the first `dead_rows` rows of every block
//! (`L` is chosen so that they are whole rows in activation regions; in the input region the
//! first live row may also hold extra lanes, which the public inputs bind to zero). The Horner
//! sums over a region's lanes restart
//! after the last dead row, so dead cells enter no product check: they are not part of the
//! statement. This keeps a narrow layer from forcing a wide layer's region to many lane columns
//! when the batch is small.
//!
//! One file per thing laid out: [`LayerLayout`] (weights), [`RegionLayout`] (layer inputs, with
//! [`ActivationCells`] naming an activation's six cells), [`LookupValue`] (range checks),
//! [`AuxLayout`] (the auxiliary segment), [`Counter`] (per-block power columns) and
//! [`TableColumns`] (activation tables, after the regions).

use alloc::vec::Vec;

use crate::descriptor::{DescriptorError, ModelDescriptor};
use crate::limits::{MAX_TRACE_LEN, MAX_VERIFIER_WORK, MAX_WIDTH, RANGE_TABLE_SIZE, SKETCHES};

mod activation;
mod aux;
mod counter;
mod layer;
mod lookup;
mod region;
mod table;
#[cfg(test)]
mod tests;

pub use activation::{ActivationCells, ACT_C, ACT_CELLS, ACT_D0, ACT_D1, ACT_R0, ACT_R1, ACT_X};
pub use aux::AuxLayout;
pub use counter::Counter;
pub use layer::LayerLayout;
pub use lookup::LookupValue;
pub use region::{RegionKind, RegionLayout};
pub use table::TableColumns;

use lookup::{group_lookups, range_checked, LOOKUP_DEGREE_BUDGET, WIDE_LOOKUP_DEGREE_BUDGET};

/// Weight-sketch columns: a running sum `H` and its row total `T` for each of
/// [`SKETCHES`] sketches.
pub const SKETCH_COLUMNS: usize = 2 * SKETCHES;

/// The complete column map for one model descriptor and one batch capacity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Rows.
    pub trace_len: usize,
    /// Live batch lanes `L`: the samples of the statement plus padding lanes.
    pub batch_capacity: usize,
    /// Per layer.
    pub layers: Vec<LayerLayout>,
    /// Per layer input (region `l` feeds layer `l`).
    pub regions: Vec<RegionLayout>,
    /// Range table column.
    pub table: usize,
    /// Multiplicity column.
    pub multiplicity: usize,
    /// First of the [`SKETCH_COLUMNS`] weight-sketch columns (see [`crate::commitment`]).
    pub sketch: usize,
    /// Per activation table (tabled layers in order): its value and multiplicity columns, the
    /// last main columns.
    pub tables: Vec<TableColumns>,
    /// Main segment width.
    pub main_width: usize,
    /// Range-checked values, grouped so each group's helper constraint stays within degree 5 (8
    /// where that keeps the trace within [`MAX_WIDTH`]).
    pub lookup_groups: Vec<Vec<LookupValue>>,
    /// Distinct block lengths of two rows or more, each with a pair of periodic flags (a one-row
    /// block needs none: every row is its last).
    pub block_lens: Vec<usize>,
    /// Distinct `(block_len, dead_rows)` of regions with dead rows, each with a periodic restart
    /// flag (see [`RegionLayout::restarts_after`]).
    pub restart_flags: Vec<(usize, usize)>,
    /// Distinct `(plane span, block_len)` of linear patch layers, each with a periodic flag on
    /// the last rows of the blocks in the plane's upper half (its back-reading offsets, see
    /// [`crate::conv::PatchShape::linear`]).
    pub half_flags: Vec<(usize, usize)>,
    /// Auxiliary column map.
    pub aux: AuxLayout,
}

impl Layout {
    /// Builds the layout of `descriptor` for `batch` samples.
    ///
    /// # Errors
    /// The descriptor is invalid, the batch is zero, or the trace would exceed [`MAX_WIDTH`]
    /// columns.
    pub fn new(descriptor: &ModelDescriptor, batch: usize) -> Result<Self, DescriptorError> {
        descriptor.validate()?;
        Self::with_capacity(descriptor, Self::live_lanes(descriptor, batch))
    }

    /// The smallest capacity `L ≥ batch` whose extra lanes fill whole rows in every activation
    /// region: each block length is either at least `L` (one lane column) or divides `L`. The
    /// input region is exempt: extra input lanes in a live row are bound to zero by the public
    /// inputs, like the padding lanes.
    fn live_lanes(descriptor: &ModelDescriptor, batch: usize) -> usize {
        let n = descriptor.trace_len;
        let lens: Vec<usize> = descriptor
            .layers
            .iter()
            .skip(1)
            .map(|l| n / l.n_in.next_power_of_two())
            .collect();
        let fits = |cap: usize| lens.iter().all(|&r| r >= cap || cap.is_multiple_of(r));
        // terminates: every block length divides the next multiple of the largest one
        (batch.max(1)..).find(|&cap| fits(cap)).unwrap_or(batch)
    }

    /// The largest batch one proof of this model can hold (0 if even one sample does not fit).
    pub fn max_batch(descriptor: &ModelDescriptor) -> usize {
        let fits = |b: usize| Self::new(descriptor, b).is_ok();
        if !fits(1) {
            return 0;
        }
        // the layout only grows with the batch: bisect for the last batch that fits
        let (mut lo, mut hi) = (1, MAX_TRACE_LEN + 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn with_capacity(
        descriptor: &ModelDescriptor,
        capacity: usize,
    ) -> Result<Self, DescriptorError> {
        let n = descriptor.trace_len;
        let mut col = 0;
        let table = col;
        let multiplicity = col + 1;
        col += 2;

        let mut layers = Vec::new();
        for (l, layer) in descriptor.layers.iter().enumerate() {
            let placed = LayerLayout::place(l, layer, n, col)?;
            col += placed.k;
            layers.push(placed);
        }
        let sketch = col;
        col += SKETCH_COLUMNS;
        let mut regions = Vec::new();
        for l in 0..layers.len() {
            let region = RegionLayout::place(l, descriptor, &layers, capacity, col)?;
            col += region.width();
            regions.push(region);
        }
        let mut tables = Vec::new();
        for (layer, d) in descriptor.layers.iter().enumerate() {
            if d.table.is_some() {
                tables.push(TableColumns {
                    layer,
                    values: col,
                    multiplicity: col + 1,
                });
                col += 2;
            }
        }
        let main_width = col;
        // too wide already: refuse before building per-lane lookups (a large batch would
        // allocate millions of them, which made `max_batch`'s bisection slow)
        if main_width > MAX_WIDTH {
            return Err(DescriptorError::TooWide {
                columns: main_width,
            });
        }

        // range checks: per activation x, r0, r1, d0, d1 (the weights are the committed ones)
        let values = range_checked(&regions);
        let group = |budget: usize| group_lookups(&values, budget);
        let mut lookup_groups = group(LOOKUP_DEGREE_BUDGET);
        let aux_of = |helpers: usize| AuxLayout::new(&layers, &regions, helpers, tables.len());
        let mut aux = aux_of(lookup_groups.len());
        if main_width + aux.width > MAX_WIDTH {
            // too wide: fewer, higher-degree helpers (constraint evaluation over 8N points)
            lookup_groups = group(WIDE_LOOKUP_DEGREE_BUDGET);
            aux = aux_of(lookup_groups.len());
        }

        // block lengths, and every span after which a per-block power column steps (same flag
        // pairs)
        let spans = |c: &Counter| c.steps.iter().map(|&(span, _)| span).collect::<Vec<_>>();
        let mut block_lens: Vec<usize> = layers
            .iter()
            .flat_map(|l| {
                let mut v = alloc::vec![l.block_len];
                v.extend(l.factor.iter().flat_map(spans));
                v.extend(l.plane_span());
                v
            })
            .chain(regions.iter().flat_map(|r| spans(&r.powers)))
            .collect();
        block_lens.sort_unstable();
        block_lens.dedup();
        // one-row blocks need no flag: every row is their last (see `AuxFrame::flags`)
        block_lens.retain(|&len| len >= 2);
        let mut restart_flags: Vec<(usize, usize)> = regions
            .iter()
            .filter(|r| r.dead_rows > 0)
            .map(|r| (r.block_len, r.dead_rows))
            .collect();
        restart_flags.sort_unstable();
        restart_flags.dedup();
        let mut half_flags: Vec<(usize, usize)> = layers
            .iter()
            .filter(|l| l.patch.as_ref().is_some_and(|p| p.linear))
            .filter_map(|l| l.plane_span().map(|span| (span, l.block_len)))
            .collect();
        half_flags.sort_unstable();
        half_flags.dedup();

        if main_width + aux.width > MAX_WIDTH {
            return Err(DescriptorError::TooWide {
                columns: main_width + aux.width,
            });
        }
        let layout = Self {
            trace_len: n,
            batch_capacity: capacity,
            layers,
            regions,
            table,
            multiplicity,
            sketch,
            tables,
            main_width,
            lookup_groups,
            block_lens,
            restart_flags,
            half_flags,
            aux,
        };
        let work = layout.verifier_work();
        if work > MAX_VERIFIER_WORK {
            return Err(DescriptorError::VerifierCost { work });
        }
        Ok(layout)
    }

    /// The weight columns, layer by layer: one contiguous range (what the weight commitment
    /// hashes in each row).
    pub fn weight_range(&self) -> core::ops::Range<usize> {
        let start = self.layers.first().map_or(0, |l| l.w_start);
        let end = self.layers.last().map_or(start, |l| l.w_start + l.k);
        start..end
    }

    /// Index of the periodic restart flag of `region` (`None` if it has no dead rows, when the
    /// block's last-row flag serves).
    pub fn restart_flag_index(&self, region: &RegionLayout) -> Option<usize> {
        self.restart_flags
            .iter()
            .position(|&f| f == (region.block_len, region.dead_rows))
    }

    /// Index of the upper-half flag of a linear patch layer with these plane span and block
    /// length.
    pub fn half_flag_index(&self, span: usize, block_len: usize) -> usize {
        self.half_flags
            .iter()
            .position(|&f| f == (span, block_len))
            .unwrap_or(0)
    }

    /// Index of the periodic flag pair for `block_len`.
    pub fn block_len_index(&self, block_len: usize) -> usize {
        self.block_lens
            .iter()
            .position(|&r| r == block_len)
            .unwrap_or(0)
    }

    /// Main-trace cells.
    pub fn main_cells(&self) -> usize {
        self.main_width * self.trace_len
    }

    /// Field operations the verifier spends on this layout beyond the STARK itself: the public
    /// input and output terms over every lane, the bias terms, and interpolating the periodic
    /// block flags (proportional to the block lengths).
    pub fn verifier_work(&self) -> usize {
        let first = self.layers.first().map_or(0, |l| l.blocks);
        let last = self.layers.last().map_or(0, |l| l.n_out);
        let lanes = self
            .regions
            .iter()
            .map(RegionLayout::lanes)
            .max()
            .unwrap_or(0);
        let biases: usize = self.layers.iter().map(|l| l.n_out).sum::<usize>()
            + self.layers.len() * self.batch_capacity;
        let flags: usize = self
            .block_lens
            .iter()
            .map(|&r| 2 * r * (r.ilog2() as usize + 1))
            .chain(
                self.restart_flags
                    .iter()
                    .chain(&self.half_flags)
                    .map(|&(r, _)| r * (r.ilog2() as usize + 1)),
            )
            .sum();
        // interpolating the range table's and each activation table's pinned values
        let pinned = (1 + self.tables.len()) * 2 * RANGE_TABLE_SIZE * 8;
        lanes * (first + last) + biases + flags + pinned
    }

    /// Rows between the range table's pinned values (`N / 256`): value `i` is asserted at row
    /// `i·stride` (see [`crate::table`]).
    pub fn table_stride(&self) -> usize {
        (self.trace_len / RANGE_TABLE_SIZE).max(1)
    }

    /// Main-trace cells that hold weights or sketch them (paid once per proof, whatever the
    /// batch).
    pub fn weight_cells(&self) -> usize {
        (self.weight_range().len() + SKETCH_COLUMNS) * self.trace_len
    }

    /// Main-trace cells that hold layer inputs and requantization witnesses (they grow with the
    /// batch capacity).
    pub fn sample_cells(&self) -> usize {
        self.regions.iter().map(RegionLayout::width).sum::<usize>() * self.trace_len
    }
}
