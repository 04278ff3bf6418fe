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
//! An activation cell group holds `t` (the requantized value before clamping), `c` (0: in range,
//! 1: negative, 2: saturated), the remainder limbs `r0, r1` and the range witness limbs `d0, d1`.

use alloc::vec::Vec;

use crate::conv::{natural_order, order_steps, ConvShape, Digit};
use crate::descriptor::{DescriptorError, ModelDescriptor};
use crate::limits::{MAX_TRACE_LEN, MAX_VERIFIER_WORK, MAX_WIDTH, SKETCHES};

/// Cells per activation: `t, c, r0, r1, d0, d1`.
pub const ACT_CELLS: usize = 6;
/// Offset of `t` in an activation cell group.
pub const ACT_T: usize = 0;
/// Offset of the case selector `c`.
pub const ACT_C: usize = 1;
/// Offset of the low remainder limb.
pub const ACT_R0: usize = 2;
/// Offset of the high remainder limb.
pub const ACT_R1: usize = 3;
/// Offset of the low range-witness limb.
pub const ACT_D0: usize = 4;
/// Offset of the high range-witness limb.
pub const ACT_D1: usize = 5;
/// Weight-sketch columns: a running sum `H` and its row total `T` for each of
/// [`SKETCHES`] sketches.
pub const SKETCH_COLUMNS: usize = 2 * SKETCHES;
/// Highest constraint degree a lookup group may reach (5 keeps winterfell's constraint
/// evaluation domain at 4× the trace length).
const LOOKUP_DEGREE_BUDGET: usize = 5;
/// The budget for a trace that would otherwise exceed [`MAX_WIDTH`] (an 8× evaluation domain,
/// about half the helper columns).
const WIDE_LOOKUP_DEGREE_BUDGET: usize = 8;

/// A column of per-block challenge powers: block `b` holds `base^(start + natural(b))` for a
/// mixed-radix order (see [`crate::conv`]); it starts at `base^start` on row 0 and after the last
/// row of every span in `steps` is multiplied by `base^exp` (the largest such span decides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    /// Exponent of the row-0 value.
    pub start: i64,
    /// `(span, exp)` per digit, spans increasing.
    pub steps: Vec<(usize, i64)>,
}

impl Counter {
    /// The counter of `order` over blocks of `block_len` rows.
    pub fn new(start: i64, order: &[Digit], block_len: usize) -> Self {
        Self {
            start,
            steps: order_steps(order, block_len),
        }
    }
}

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
    /// Physical output `b` is natural output `natural_index(out_order, b)` (the identity but for
    /// pooled stencil layers).
    pub out_order: Vec<Digit>,
    /// The per-block factor column of a grouped (`ρ^(g·group_out)`) or stencil (`ρ^(y·Wo + x)`)
    /// layer.
    pub factor: Option<Counter>,
}

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
    /// Cells per lane.
    pub fn cells(&self) -> usize {
        match self.kind {
            RegionKind::Input => 1,
            RegionKind::Activation { .. } => ACT_CELLS,
        }
    }

    /// First column of lane column `t`.
    pub fn lane_col(&self, t: usize) -> usize {
        self.start + t * self.cells()
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

    /// Columns this region occupies.
    pub fn width(&self) -> usize {
        self.lanes_per_row * self.cells()
    }
}

impl LayerLayout {
    /// The shift of this layer's output exponents (`ρ^(1 + shift + i)` for output `i`; nonzero
    /// only for stencil layers, see [`ConvShape::exponent_shift`]).
    pub fn out_shift(&self) -> i64 {
        self.conv.as_ref().map_or(0, ConvShape::exponent_shift)
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

/// One value range-checked against the table `0..256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupValue {
    /// The cell itself.
    Cell(usize),
    /// The activation `x` of the group starting at this column (degree 3 in the cells).
    Activation(usize),
}

impl LookupValue {
    /// Degree of the value in the trace cells.
    pub fn degree(&self) -> usize {
        match self {
            Self::Cell(_) => 1,
            Self::Activation(_) => 3,
        }
    }
}

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
    /// Main segment width.
    pub main_width: usize,
    /// Range-checked values, grouped so each group's helper constraint stays within degree 5 (8
    /// where that keeps the trace within [`MAX_WIDTH`]).
    pub lookup_groups: Vec<Vec<LookupValue>>,
    /// Distinct block lengths, each with a pair of periodic flags.
    pub block_lens: Vec<usize>,
    /// Distinct `(block_len, dead_rows)` of regions with dead rows, each with a periodic restart
    /// flag (see [`RegionLayout::restarts_after`]).
    pub restart_flags: Vec<(usize, usize)>,
    /// Auxiliary column map.
    pub aux: AuxLayout,
}

/// Auxiliary (extension-field) column indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuxLayout {
    /// Horner sums over each layer's weight blocks.
    pub u: Vec<usize>,
    /// Horner sums over each region's layer inputs.
    pub v: Vec<usize>,
    /// Horner sums over region `l`'s accumulators of layer `l − 1` (`None` for region 0).
    pub q: Vec<Option<usize>>,
    /// Per-block challenge powers of each region.
    pub a: Vec<usize>,
    /// Per grouped or stencil layer: its per-block factor column (`None` if dense).
    pub g: Vec<Option<usize>>,
    /// The product-check accumulator.
    pub z: usize,
    /// LogUp running sum (exclusive of the current row).
    pub s: usize,
    /// LogUp total including the last row.
    pub t: usize,
    /// Table helper `m / (γ − table)`.
    pub table_helper: usize,
    /// One helper per lookup group.
    pub helpers: Vec<usize>,
    /// Width.
    pub width: usize,
}

impl AuxLayout {
    /// The auxiliary columns of `layers` and `regions` with `helpers` lookup helpers.
    fn new(layers: &[LayerLayout], regions: &[RegionLayout], helpers: usize) -> Self {
        let mut a = 0;
        let mut next = || {
            a += 1;
            a - 1
        };
        let u = layers.iter().map(|_| next()).collect();
        let v = regions.iter().map(|_| next()).collect();
        let q = regions
            .iter()
            .enumerate()
            .map(|(l, _)| (l > 0).then(&mut next))
            .collect();
        let a_cols = regions.iter().map(|_| next()).collect();
        let g = layers
            .iter()
            .map(|l| l.factor.is_some().then(&mut next))
            .collect();
        let z = next();
        let s = next();
        let t = next();
        let table_helper = next();
        let helpers = (0..helpers).map(|_| next()).collect();
        Self {
            u,
            v,
            q,
            a: a_cols,
            g,
            z,
            s,
            t,
            table_helper,
            helpers,
            width: a,
        }
    }
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
            let blocks = layer.n_in.next_power_of_two();
            let block_len = n / blocks;
            let group_out = layer.n_out / layer.groups;
            let group_in = layer.n_in / layer.groups;
            let (k, out_order, factor) = match &layer.conv {
                Some(shape) => {
                    // one row per output channel in every block
                    if shape.out_channels > block_len {
                        return Err(DescriptorError::Layout { layer: l });
                    }
                    let shift = shape.exponent_shift();
                    let factor = Counter::new(shift, &shape.input_order(blocks), block_len);
                    (shape.taps(), shape.out_order.clone(), Some(factor))
                }
                None => {
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
            layers.push(LayerLayout {
                n_in: layer.n_in,
                n_out: layer.n_out,
                blocks,
                block_len,
                k,
                groups: layer.groups,
                group_in,
                group_out,
                w_start: col,
                conv: layer.conv.clone(),
                out_order,
                factor,
            });
            col += k;
        }
        let sketch = col;
        col += SKETCH_COLUMNS;
        let mut regions = Vec::new();
        for (l, layer) in layers.iter().enumerate() {
            let kind = if l == 0 {
                RegionKind::Input
            } else {
                let multiplier = descriptor.layers[l - 1].multiplier.unwrap_or(0);
                RegionKind::Activation {
                    layer: l - 1,
                    multiplier,
                }
            };
            let lanes_per_row = capacity.div_ceil(layer.block_len);
            let extra = lanes_per_row * layer.block_len - capacity;
            if l > 0 && !extra.is_multiple_of(lanes_per_row) {
                return Err(DescriptorError::Layout { layer: l });
            }
            let (order, shift) = match l {
                0 => (natural_order(layer.blocks), 0),
                _ => (layers[l - 1].out_order.clone(), layers[l - 1].out_shift()),
            };
            let region = RegionLayout {
                kind,
                block_len: layer.block_len,
                blocks: layer.blocks,
                lanes_per_row,
                dead_rows: extra / lanes_per_row,
                powers: Counter::new(1 + shift, &order, layer.block_len),
                start: col,
            };
            col += region.width();
            regions.push(region);
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
        let mut values: Vec<LookupValue> = Vec::new();
        for region in &regions {
            if let RegionKind::Activation { .. } = region.kind {
                for t in 0..region.lanes_per_row {
                    let base = region.lane_col(t);
                    values.push(LookupValue::Activation(base));
                    for off in [ACT_R0, ACT_R1, ACT_D0, ACT_D1] {
                        values.push(LookupValue::Cell(base + off));
                    }
                }
            }
        }
        let group = |budget: usize| {
            let mut groups: Vec<Vec<LookupValue>> = Vec::new();
            let mut current: Vec<LookupValue> = Vec::new();
            let mut degree = 1;
            for &v in &values {
                if degree + v.degree() > budget {
                    groups.push(core::mem::take(&mut current));
                    degree = 1;
                }
                degree += v.degree();
                current.push(v);
            }
            if !current.is_empty() {
                groups.push(current);
            }
            groups
        };
        let mut lookup_groups = group(LOOKUP_DEGREE_BUDGET);
        let mut aux = AuxLayout::new(&layers, &regions, lookup_groups.len());
        if main_width + aux.width > MAX_WIDTH {
            // too wide: fewer, higher-degree helpers (constraint evaluation over 8N points)
            lookup_groups = group(WIDE_LOOKUP_DEGREE_BUDGET);
            aux = AuxLayout::new(&layers, &regions, lookup_groups.len());
        }

        // block lengths, and every span after which a per-block power column steps (same flag
        // pairs)
        let spans = |c: &Counter| c.steps.iter().map(|&(span, _)| span).collect::<Vec<_>>();
        let mut block_lens: Vec<usize> = layers
            .iter()
            .flat_map(|l| {
                let mut v = alloc::vec![l.block_len];
                v.extend(l.factor.iter().flat_map(spans));
                v
            })
            .chain(regions.iter().flat_map(|r| spans(&r.powers)))
            .collect();
        block_lens.sort_unstable();
        block_lens.dedup();
        let mut restart_flags: Vec<(usize, usize)> = regions
            .iter()
            .filter(|r| r.dead_rows > 0)
            .map(|r| (r.block_len, r.dead_rows))
            .collect();
        restart_flags.sort_unstable();
        restart_flags.dedup();

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
            main_width,
            lookup_groups,
            block_lens,
            restart_flags,
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
                    .map(|&(r, _)| r * (r.ilog2() as usize + 1)),
            )
            .sum();
        lanes * (first + last) + biases + flags
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::LayerDescriptor;
    use alloc::vec;

    fn descriptor(shape: &[usize], trace_len: usize) -> ModelDescriptor {
        let layers = shape
            .windows(2)
            .enumerate()
            .map(|(l, w)| LayerDescriptor {
                n_in: w[0],
                n_out: w[1],
                multiplier: (l + 2 < shape.len()).then_some(100),
                bias: vec![0; w[1]],
                groups: 1,
                conv: None,
            })
            .collect();
        ModelDescriptor {
            trace_len,
            layers,
            input_scale: 1.0,
            output_scale: 1.0,
        }
    }

    #[test]
    fn extra_lanes_fill_whole_rows_and_the_capacity_is_the_least_such() {
        // block lengths 64 (input), 8, 32 at 1024 rows
        let d = descriptor(&[16, 128, 32, 10], 1024);
        for batch in 1..=96 {
            let Ok(layout) = Layout::new(&d, batch) else {
                panic!("batch {batch} fits");
            };
            let cap = layout.batch_capacity;
            assert!(cap >= batch);
            for r in &layout.regions {
                assert!(r.lanes() >= cap);
                let extra = r.lanes() - cap;
                if r.kind == RegionKind::Input {
                    // whole dead rows, then at most part of a row (bound to zero inputs)
                    assert_eq!(extra / r.lanes_per_row, r.dead_rows, "batch {batch}");
                } else {
                    // the dead lanes are exactly the first `dead_rows` rows of a block
                    assert_eq!(extra, r.dead_rows * r.lanes_per_row, "batch {batch}");
                }
                assert!(r.dead_rows < r.block_len);
            }
            // no smaller capacity would do (the input region does not constrain it)
            if cap > batch {
                let fits = |c: usize| [8usize, 32].iter().all(|&b| b >= c || c.is_multiple_of(b));
                assert!((batch..cap).all(|c| !fits(c)), "batch {batch}");
            }
        }
        // one sample takes one lane column everywhere, where all lanes used to be live
        let Ok(one) = Layout::new(&d, 1) else {
            panic!("one sample fits");
        };
        assert!(one.regions.iter().all(|r| r.lanes_per_row == 1));
        assert_eq!(one.regions[1].dead_rows, 7);
        assert_eq!(one.restart_flags, vec![(8, 7), (32, 31), (64, 63)]);
        // a full-width batch has no dead rows, and no restart flags
        let Ok(full) = Layout::new(&d, 64) else {
            panic!("64 samples fit");
        };
        assert!(full.regions.iter().all(|r| r.dead_rows == 0));
        assert!(full.restart_flags.is_empty());
    }

    #[test]
    fn max_batch_is_the_last_batch_that_fits() {
        let d = descriptor(&[64, 128, 64, 10], 1024);
        let max = Layout::max_batch(&d);
        let Ok(widest) = Layout::new(&d, max) else {
            panic!("the largest batch fits");
        };
        assert!(Layout::new(&d, max + 1).is_err());
        // winterfell's proof reader refuses 255 columns
        assert!(widest.main_width + widest.aux.width <= 254);
    }

    #[test]
    fn a_statement_designed_to_stall_the_verifier_is_too_expensive() {
        // one-wide layers force 2^20 lanes; a 16384-wide output makes the output term 2^34 operations
        let Err(err) = Layout::new(&descriptor(&[1, 1, 16384], 1 << 20), 1) else {
            panic!("a stalling layout was accepted");
        };
        assert!(matches!(err, DescriptorError::VerifierCost { .. }), "{err}");
        // the digits MLP is far below the bound
        let Ok(layout) = Layout::new(&descriptor(&[64, 128, 64, 10], 1024), 64) else {
            panic!("the digits MLP has a layout");
        };
        assert!(
            layout.verifier_work() < 1 << 19,
            "{}",
            layout.verifier_work()
        );
    }
}
