//! Stencil layers (convolutions) and mixed-radix block orders.
//!
//! **Stencil layers.** A convolution with stride 1 (any kernel and padding, one group) is a matrix
//! whose column `j` (input `(c, y, x)`) has nonzeros only at the outputs `(o, y + p_t − dy,
//! x + p_l − dx)` of the `kh·kw` kernel taps `(dy, dx)`. Its weight block `j` therefore stores, in
//! `kh·kw` columns (one per tap) and one row per output channel `o`, exactly the weights input `j`
//! meets: `O·kh·kw` cells instead of the `n_out` cells of a dense column, so the weight cells grow
//! with the multiply-accumulates of one sample, not with `inputs × outputs`. The product check
//! needs `f_j = Σ_i ρ^i W_ij` per block; for a stencil block it is
//! `ρ^(y·Wo + x) · Σ_o ρ^(o·Ho·Wo) · Σ_t ρ^(e_t) · w_jot` with the tap exponents
//! `e_t = (p_t − dy)·Wo + (p_l − dx)`: a Horner pass over the rows with step `ρ^(Ho·Wo)`, fixed
//! per-column factors, and a per-block factor `ρ^(y·Wo + x)` supplied by an auxiliary column.
//! Every exponent of a stencil layer's check, outputs included, is shifted by
//! [`ConvShape::exponent_shift`] so that each stored cell carries a positive power of `ρ`.
//! Each block holds its own copy of the weights it uses, all committed, so the proven operator is
//! exactly the committed matrix whatever its values; the compiler only checks that every nonzero
//! lies on the stencil.
//!
//! **Mixed-radix orders.** Block `b`'s value in such a factor column (and in the per-block
//! challenge powers of a region) is `base^(start + Σ_s d_s(b)·coef_s)`, where `d_s(b)` are
//! groups of binary digits of `b`, lowest first ([`Digit`]). Between consecutive blocks the value
//! is multiplied by `base^(e_s)` when digits `0..s` roll over and digit `s` increments, so one
//! transition constraint with one periodic flag per digit generates it. A pooled convolution's
//! outputs are reordered so that windows are consecutive; that permutation of a power-of-two grid
//! is such an order, which keeps the stencil's natural output index available to the check.

use alloc::vec::Vec;

mod dims;
mod order;
mod patch;

pub use dims::ConvDims;
pub use order::{natural_index, natural_order, order_is_valid, order_steps, windows_of, Digit};
pub use patch::{PatchShape, LINEAR_MARK, POOL_MARK, POOL_WINDOW};

/// A convolution stored as a stencil layer (stride 1, dilation 1, one group): its sizes and the
/// physical order of its outputs.
///
/// Inputs are numbered `((c·H + y)·W + x)·E + e` (`E` activations per input value: 2 after a max
/// pool, whose value is the sum of a pair), outputs naturally `(o·Ho + y)·Wo + x` and physically
/// in the order [`ConvShape::out_order`] gives. Its sizes are read through [`ConvDims`] (`Deref`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Channels, sides, kernel and padding.
    pub dims: ConvDims,
    /// Physical output `b` is natural output `Σ_s d_s(b)·coef_s`.
    pub out_order: Vec<Digit>,
}

impl core::ops::Deref for ConvShape {
    type Target = ConvDims;

    fn deref(&self) -> &ConvDims {
        &self.dims
    }
}

impl ConvShape {
    /// The shape with integer fields `f` (in [`ConvDims::fields`] order) and output order.
    pub fn from_fields(f: [usize; ConvDims::FIELDS], out_order: Vec<Digit>) -> Self {
        Self {
            dims: ConvDims::from_fields(f),
            out_order,
        }
    }

    /// Checks the shape against the layer's dimensions: every bound the AIR relies on.
    pub fn is_valid(&self, n_in: usize, n_out: usize) -> bool {
        // a power-of-two output count, so that the order is a permutation of exactly the outputs
        self.dims.is_valid(n_in, n_out)
            && n_out.is_power_of_two()
            && order_is_valid(&self.out_order, n_out)
    }

    /// The order of the per-block factor `ρ^(y·Wo + x)` over the input blocks (`blocks` of them,
    /// a power of two at least `n_in`).
    pub fn input_order(&self, blocks: usize) -> Vec<Digit> {
        let log = |v: usize| v.trailing_zeros();
        let low = [
            Digit {
                bits: log(self.copies),
                coef: 0,
            },
            Digit {
                bits: log(self.width),
                coef: 1,
            },
            Digit {
                bits: log(self.height),
                coef: self.out_width as u64,
            },
        ];
        let used: u32 = low.iter().map(|d| d.bits).sum();
        let rest = Digit {
            bits: log(blocks).saturating_sub(used),
            coef: 0,
        };
        low.into_iter()
            .chain(core::iter::once(rest))
            .filter(|d| d.bits > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_same_padded_three_by_three_convolution_is_valid() {
        let shape = ConvShape {
            dims: ConvDims {
                channels: 1,
                height: 8,
                width: 8,
                copies: 1,
                out_channels: 4,
                out_height: 8,
                out_width: 8,
                kernel_h: 3,
                kernel_w: 3,
                pad_top: 1,
                pad_left: 1,
            },
            out_order: natural_order(256),
        };
        assert!(shape.is_valid(64, 256));
        assert!(!shape.is_valid(64, 255));
        let mut three = shape.clone();
        three.dims.out_channels = 3; // 192 outputs: not a power of two
        three.out_order = natural_order(256);
        assert!(!three.is_valid(64, 192));
        assert_eq!(shape.tap_exponent(0), 8 + 1);
        assert_eq!(shape.tap_exponent(8), -8 - 1);
        assert_eq!(shape.exponent_shift(), 9);
        let mut wide = shape.clone();
        wide.dims.out_width = 10; // would need two columns of right padding with a 3-wide kernel
        assert!(!wide.is_valid(64, 320));
        let mut odd = shape;
        odd.dims.height = 6;
        assert!(!odd.is_valid(48, 256));
    }
}
