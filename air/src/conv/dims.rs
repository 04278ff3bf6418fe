//! The sizes of a stride-1 convolution: channels, sides, kernel and padding. The AIR's stencil
//! layers ([`super::ConvShape`]) and the model crate's convolution layers share this one type.

use crate::limits::{MAX_DIM, MAX_KERNEL};

/// Channels, sides, kernel and padding of a stride-1 convolution `C×H×W → O×Ho×Wo` whose input
/// activation `((c·H + y)·W + x)·E + e` holds input value `(c, y, x)` (`E` copies: 2 after a max
/// pool, whose value is the sum of a pair).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConvDims {
    /// Input channels `C`.
    pub channels: usize,
    /// Input height `H`.
    pub height: usize,
    /// Input width `W`.
    pub width: usize,
    /// Activations per input value `E` (1 or 2).
    pub copies: usize,
    /// Output channels `O`.
    pub out_channels: usize,
    /// Output height `Ho`.
    pub out_height: usize,
    /// Output width `Wo`.
    pub out_width: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
}

impl ConvDims {
    /// Number of integer fields ([`ConvDims::fields`]).
    pub const FIELDS: usize = 11;

    /// The integer fields, in digest and envelope order.
    pub fn fields(&self) -> [usize; Self::FIELDS] {
        [
            self.channels,
            self.height,
            self.width,
            self.copies,
            self.out_channels,
            self.out_height,
            self.out_width,
            self.kernel_h,
            self.kernel_w,
            self.pad_top,
            self.pad_left,
        ]
    }

    /// The sizes with integer fields `f` (in [`ConvDims::fields`] order).
    pub fn from_fields(f: [usize; Self::FIELDS]) -> Self {
        let [channels, height, width, copies, out_channels, out_height, out_width, kernel_h, kernel_w, pad_top, pad_left] =
            f;
        Self {
            channels,
            height,
            width,
            copies,
            out_channels,
            out_height,
            out_width,
            kernel_h,
            kernel_w,
            pad_top,
            pad_left,
        }
    }

    /// Kernel taps (`kh·kw`): the layer's weight columns.
    pub fn taps(&self) -> usize {
        self.kernel_h * self.kernel_w
    }

    /// True if these are the sizes of a stride-1 convolution from `n_in` inputs to `n_out`
    /// outputs: kernels of `1..=MAX_KERNEL`, one or two copies, padding below the kernel size
    /// on every side, and the output grid the stride-1 grid of the padded input. Every
    /// convolution layer of a model obeys this.
    pub fn fits(&self, n_in: usize, n_out: usize) -> bool {
        let kernel_ok = |k: usize, pad: usize| (1..=MAX_KERNEL).contains(&k) && pad < k;
        // out = in + pad_before + pad_after − k + 1, with pad_after < k as well
        let grid_ok = |out: usize, input: usize, k: usize, pad: usize| {
            (out + k - 1)
                .checked_sub(input + pad)
                .is_some_and(|after| after < k)
        };
        let input = [self.channels, self.height, self.width, self.copies];
        let output = [self.out_channels, self.out_height, self.out_width];
        checked_product(&input) == Some(n_in)
            && checked_product(&output) == Some(n_out)
            && (1..=2).contains(&self.copies)
            && kernel_ok(self.kernel_h, self.pad_top)
            && kernel_ok(self.kernel_w, self.pad_left)
            && grid_ok(self.out_height, self.height, self.kernel_h, self.pad_top)
            && grid_ok(self.out_width, self.width, self.kernel_w, self.pad_left)
    }

    /// [`ConvDims::fits`], plus what a stencil layer needs: every side and channel count in
    /// `1..=MAX_DIM` and power-of-two input sides.
    pub fn is_valid(&self, n_in: usize, n_out: usize) -> bool {
        let dims = [
            self.channels,
            self.height,
            self.width,
            self.out_channels,
            self.out_height,
            self.out_width,
        ];
        dims.iter().all(|&d| (1..=MAX_DIM).contains(&d))
            && self.height.is_power_of_two()
            && self.width.is_power_of_two()
            && self.fits(n_in, n_out)
    }

    /// The exponent `e_t = (p_t − dy)·Wo + (p_l − dx)` of tap `t = dy·kw + dx`.
    pub fn tap_exponent(&self, t: usize) -> i64 {
        let (dy, dx) = (t / self.kernel_w, t % self.kernel_w);
        let wo = self.out_width as i64;
        (self.pad_top as i64 - dy as i64) * wo + (self.pad_left as i64 - dx as i64)
    }

    /// The shift `S ≥ 0` added to every exponent of this layer's check so that each stored cell,
    /// including the zero cells of taps that fall outside the output grid, carries a positive
    /// power of `ρ` (`1 + S + y·Wo + x + o·Ho·Wo + e_t ≥ 1`): then no term of this layer is a
    /// constant that another layer's could cancel, whatever the committed weights.
    pub fn exponent_shift(&self) -> i64 {
        let lowest = (0..self.taps())
            .map(|t| self.tap_exponent(t))
            .min()
            .unwrap_or(0);
        (-lowest).max(0)
    }

    /// Output positions per channel (`Ho·Wo`), the Horner step's exponent.
    pub fn out_plane(&self) -> usize {
        self.out_height * self.out_width
    }

    /// `(c, y, x)` of input activation `j`.
    pub fn input_position(&self, j: usize) -> (usize, usize, usize) {
        let v = j / self.copies;
        let (c, y, x) = (
            v / (self.height * self.width),
            (v / self.width) % self.height,
            v % self.width,
        );
        (c, y, x)
    }
}

fn checked_product(values: &[usize]) -> Option<usize> {
    values.iter().try_fold(1usize, |acc, &v| acc.checked_mul(v))
}
