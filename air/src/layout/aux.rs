//! The auxiliary (extension-field) segment's columns.

use alloc::vec::Vec;

use super::layer::LayerLayout;
use super::region::RegionLayout;

/// Auxiliary (extension-field) column indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuxLayout {
    /// Horner sums over each layer's weight blocks.
    pub u: Vec<usize>,
    /// Horner sums over each region's layer inputs (`None` where a block has one live row).
    pub v: Vec<Option<usize>>,
    /// Horner sums over region `l`'s accumulators of layer `l − 1` (`None` for region 0, and
    /// where a block has one live row).
    pub q: Vec<Option<usize>>,
    /// Per-block challenge powers of each region.
    pub a: Vec<usize>,
    /// Per grouped or stencil layer: its per-block factor column (`None` if dense).
    pub g: Vec<Option<usize>>,
    /// Per patch layer: its sums `D`, `E1`, `E2` (see [`crate::conv::PatchShape`]).
    pub patch: Vec<Option<[usize; 3]>>,
    /// Per linear patch layer: its sums `D⁻`, `E2⁻` over the back-reading offsets.
    pub patch_back: Vec<Option<[usize; 2]>>,
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
    /// Per activation table: its helper `m_k / (γ − key_k)`.
    pub table_helpers: Vec<usize>,
    /// Width.
    pub width: usize,
}

impl AuxLayout {
    /// The auxiliary columns of `layers` and `regions` with `helpers` lookup helpers and
    /// `tables` activation tables.
    pub(super) fn new(
        layers: &[LayerLayout],
        regions: &[RegionLayout],
        helpers: usize,
        tables: usize,
    ) -> Self {
        let mut a = 0;
        let mut next = || {
            a += 1;
            a - 1
        };
        let u = layers.iter().map(|_| next()).collect();
        let v = regions
            .iter()
            .map(|r| (!r.single_live_row()).then(&mut next))
            .collect();
        let q = regions
            .iter()
            .enumerate()
            .map(|(l, r)| (l > 0 && !r.single_live_row()).then(&mut next))
            .collect();
        let a_cols = regions.iter().map(|_| next()).collect();
        let g = layers
            .iter()
            .map(|l| l.factor.is_some().then(&mut next))
            .collect();
        let patch = layers
            .iter()
            .map(|l| l.patch.is_some().then(|| [next(), next(), next()]))
            .collect();
        let patch_back = layers
            .iter()
            .map(|l| {
                l.patch
                    .as_ref()
                    .is_some_and(|p| p.linear)
                    .then(|| [next(), next()])
            })
            .collect();
        let z = next();
        let s = next();
        let t = next();
        let table_helper = next();
        let helpers = (0..helpers).map(|_| next()).collect();
        let table_helpers = (0..tables).map(|_| next()).collect();
        Self {
            u,
            v,
            q,
            a: a_cols,
            g,
            patch,
            patch_back,
            z,
            s,
            t,
            table_helper,
            helpers,
            table_helpers,
            width: a,
        }
    }
}
