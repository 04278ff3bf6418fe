//! Patch layers: a convolution whose weights sit in the trace once, whatever the image size.
//!
//! **The operator.** A patch layer reads `planes` input planes of `P` activations each (`P` a
//! power of two: an image laid out row by row in a box of `Hb × Wb` cells, `Wb` and `Hb` powers
//! of two, with zeros outside the image) and writes `O` output planes of the same size:
//!
//! `Y[o·P + p] = b + Σ_π Σ_s K[o][π·P + s] · X[π·P + (p + s) mod P]`.
//!
//! It is a cyclic correlation over each plane: kernel tap `(dy, dx)` of a convolution is the
//! offset `s = dy·Wb + dx`, and a convolution with padding reads zeros from the box's spare rows
//! and columns as long as `Wb ≥ W + pad` and `Hb ≥ H + pad` (a read left of column 0 wraps to the
//! spare columns of the row above, one above row 0 to the spare rows at the bottom). Outputs
//! outside the image's output grid are well defined, only not used. A stride-2 convolution is a
//! stride-1 one over the four phase planes of its input, which the previous layer's output order
//! provides. The AIR does not know any of this geometry: it proves the operator above for
//! whatever kernel the committed weight columns hold.
//!
//! **The check.** With `F_(π,s) = Σ_o ρ^(o·P) K[o][π·P + s]` (a Horner pass over the weight cells
//! of block `(π, s)`, step `ρ^P`) and `g_q = Σ_b β^b X_(q,b)` (the lanes of input `q`),
//!
//! `Σ_(o,p) ρ^(1 + o·P + p) Σ_b β^b (Y − b) = Σ_π ρ²·D_(P−1)·E1 − ρ(ρ^P − 1)·E2`
//!
//! per plane, where `D_q = Σ_(s ≤ q) ρ^(q − s) F_s` (so `D_q = ρ·D_(q−1) + F_q`), `E1 = Σ_q ρ^q g_q`
//! and `E2 = Σ_q D_q g_q`. It follows from `Σ_p ρ^p X[(p + s) mod P] = ρ^(−s)·(ρ^P·Σ_q ρ^q X_q −
//! (ρ^P − 1)·Σ_(q ≥ s) ρ^q X_q)`: the reads that wrap around the plane are the ones with `q < s`.
//! Every term is a polynomial in `ρ` (no negative powers), so a false output survives with
//! probability below `(O·P + 2P)/|F|`. Per input block the trace stores `⌈O / block_len⌉` weight
//! columns (zero but at the kernel's taps), three auxiliary sums per layer (`D`, `E1`, `E2`) and
//! the position power `ρ^q` (a per-block counter): the cost grows with the activations, not with
//! taps × positions.
//!
//! **Linear planes** ([`PatchShape::linear`]). Offsets `s < P/2` read forward and keep only the
//! reads with `q ≥ s` (`Σ_p ρ^p X_lin = ρ^(−s) Σ_(q ≥ s) ρ^q X_q`); offsets `s ≥ P/2` read back by
//! `P − s` and keep only the reads with `q < s` (`ρ^(P−s)(Σ_q ρ^q X_q − Σ_(q ≥ s) ρ^q X_q)`).
//! With `D⁻` and `E2⁻` the sums `D` and `E2` over the back-reading offsets alone (a periodic flag
//! marks the plane's upper half), the plane's share is
//! `ρ·E2 + ρ²·D⁻_(P−1)·E1 − ρ(ρ^P + 1)·E2⁻`: two more auxiliary sums per layer.

use alloc::vec::Vec;

use super::order::{order_is_valid, Digit};

/// The sizes of a patch layer and the physical order of its outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchShape {
    /// Input planes (input activations `π·P .. (π + 1)·P`).
    pub planes: usize,
    /// Activations per plane `P` (a power of two, at least 2).
    pub plane: usize,
    /// Output planes `O`.
    pub out_channels: usize,
    /// Physical output `b` is natural output `natural_index(out_order, b)`.
    pub out_order: Vec<Digit>,
    /// True if the next layer reads the maxima of windows of [`POOL_WINDOW`] consecutive
    /// (physical) outputs instead of the outputs themselves: a 2×2 max pool in the pool unit
    /// (see [`crate::units::pool`]).
    pub pooled: bool,
    /// True if reads beyond either end of a plane are zero instead of wrapping around: a linear
    /// correlation, `Y[o·P + p] = b + Σ_π Σ_s K[o][π·P + s]·X_π[p + δ_s]` with `δ_s = s` for
    /// `s < P/2` and `s − P` above (taps that read back), `X_π` zero outside `0..P`. An image
    /// as tall as its box then reads its top and bottom padding from outside the plane.
    pub linear: bool,
}

/// Outputs per window of a pooled patch layer.
pub const POOL_WINDOW: usize = 4;

/// The mark a pooled patch layer carries on its `out_channels` field in the digest and the
/// envelope (`out_channels` is at most `MAX_DIM`, so the mark is unambiguous and unpooled
/// layers keep their encodings).
pub const POOL_MARK: usize = 1 << 31;

/// The mark a linear patch layer (see [`PatchShape::linear`]) carries on its `out_channels`
/// field, like [`POOL_MARK`].
pub const LINEAR_MARK: usize = 1 << 30;

impl PatchShape {
    /// Number of integer fields ([`PatchShape::fields`]).
    pub const FIELDS: usize = 3;

    /// The integer fields, in digest and envelope order (the order's digits follow them); a
    /// pooled layer's `out_channels` carries [`POOL_MARK`].
    pub fn fields(&self) -> [usize; Self::FIELDS] {
        let pool = if self.pooled { POOL_MARK } else { 0 };
        let linear = if self.linear { LINEAR_MARK } else { 0 };
        [self.planes, self.plane, self.out_channels | pool | linear]
    }

    /// The shape with integer fields `f` (in [`PatchShape::fields`] order) and output order.
    pub fn from_fields(f: [usize; Self::FIELDS], out_order: Vec<Digit>) -> Self {
        let [planes, plane, out_channels] = f;
        Self {
            planes,
            plane,
            out_channels: out_channels & !(POOL_MARK | LINEAR_MARK),
            out_order,
            pooled: out_channels & POOL_MARK != 0,
            linear: out_channels & LINEAR_MARK != 0,
        }
    }

    /// Activations the next layer reads per output of this one: 1, or a window of
    /// [`POOL_WINDOW`] for a pooled layer.
    pub fn window(&self) -> usize {
        if self.pooled {
            POOL_WINDOW
        } else {
            1
        }
    }

    /// Checks the shape against the layer's dimensions: `planes·P` inputs, `O·P` outputs, a
    /// power-of-two plane, and an output order that maps the padded outputs one-to-one.
    pub fn is_valid(&self, n_in: usize, n_out: usize) -> bool {
        self.plane.is_power_of_two()
            && self.plane >= 2 * self.window()
            && self.planes.checked_mul(self.plane) == Some(n_in)
            && self.out_channels.checked_mul(self.plane) == Some(n_out)
            && order_is_valid(&self.out_order, n_out.next_power_of_two())
    }

    /// The order of the per-block position power `ρ^q` over `blocks` input blocks: the position
    /// counts up within a plane and restarts at the next.
    pub fn position_order(&self, blocks: usize) -> Vec<Digit> {
        let bits = self.plane.trailing_zeros();
        let rest = blocks.trailing_zeros().saturating_sub(bits);
        let mut order = alloc::vec![Digit { bits, coef: 1 }];
        if rest > 0 {
            order.push(Digit {
                bits: rest,
                coef: 0,
            });
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::order::natural_order;

    #[test]
    fn shapes_must_cover_the_layer_exactly() {
        let shape = PatchShape {
            planes: 3,
            plane: 64,
            out_channels: 6,
            out_order: natural_order(512),
            pooled: false,
            linear: false,
        };
        assert!(shape.is_valid(192, 384));
        assert!(!shape.is_valid(191, 384));
        assert!(!shape.is_valid(192, 383));
        let mut odd = shape.clone();
        odd.plane = 48;
        assert!(!odd.is_valid(144, 288));
        let mut short = shape;
        short.out_order = natural_order(256);
        assert!(!short.is_valid(192, 384));
    }
}
