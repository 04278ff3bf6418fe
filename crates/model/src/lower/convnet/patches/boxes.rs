//! The power-of-two boxes the images of the patch path live in: where a value sits, a
//! convolution's kernel rows over the boxes, the row orders of a patch layer's outputs, and the
//! masks of the block-diagonal layers that pool, subsample or clear the spare cells.

use crate::ir::graph::Tensor;

/// An image of `c` channels, `h × w`, at the top left of `c` boxes of `bh × bw` cells (row by
/// row, box after box). `clean` if every spare cell is zero, so that a convolution may read the
/// spare cells as its padding; a convolution's own outputs are not (their spare cells hold
/// `relu(b + …)` of reads around the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Image {
    /// Channels.
    pub c: usize,
    /// Image height.
    pub h: usize,
    /// Image width.
    pub w: usize,
    /// Box height (a power of two).
    pub bh: usize,
    /// Box width (a power of two).
    pub bw: usize,
    /// True if the spare cells are zero.
    pub clean: bool,
    /// True if each box is stored as its four phase planes (see [`grid_cell`]).
    pub phased: bool,
}

impl Image {
    /// Cells per box (the patch layer's plane `P`).
    pub fn plane(&self) -> usize {
        self.bh * self.bw
    }

    /// Activations of the whole image (`c` boxes).
    pub fn len(&self) -> usize {
        self.c * self.plane()
    }

    /// The activation holding value `(ch, y, x)`.
    pub fn cell(&self, ch: usize, y: usize, x: usize) -> usize {
        if self.phased {
            let (qh, qw) = (self.bh / 2, self.bw / 2);
            ((ch * 4 + (y % 2) * 2 + x % 2) * qh + y / 2) * qw + x / 2
        } else {
            ch * self.plane() + y * self.bw + x
        }
    }

    /// Per activation: 1 inside the image, 0 on the spare cells (the mask that cleans a box).
    pub fn inside_mask(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| {
                let (_, y, x) = grid_cell(i, (self.bh, self.bw), self.phased);
                f64::from(u8::from(y < self.h && x < self.w))
            })
            .collect()
    }
}

/// Channel and position `(o, y, x)` of index `i` over boxes of `gh × gw`: row by row, or in
/// phase order (bits `[x', y', φx, φy, o]` of `i` for position `(2y' + φy, 2x' + φx)`: the box as
/// four half-size planes, (even, even), (even, odd), (odd, even), (odd, odd)).
pub(super) fn grid_cell(i: usize, (gh, gw): (usize, usize), phased: bool) -> (usize, usize, usize) {
    let plane = gh * gw;
    let (o, q) = (i / plane, i % plane);
    if !phased {
        return (o, q / gw, q % gw);
    }
    let (qh, qw) = (gh / 2, gw / 2);
    let (phase, q) = (q / (qh * qw), q % (qh * qw));
    (o, 2 * (q / qw) + phase / 2, 2 * (q % qw) + phase % 2)
}

/// Kernel rows `[m][c·P]` of a convolution with weight `[m][c][kh][kw]` and top-left padding
/// `(pt, pl)` over boxes `bw` wide of `plane` cells: tap `(dy, dx)` is the offset
/// `(dy − pt)·bw + (dx − pl)` modulo the plane (a read above or left of the image wraps to the
/// box's spare rows or columns).
pub(super) fn kernel_rows(
    weight: &Tensor,
    pt: usize,
    pl: usize,
    bw: usize,
    plane: usize,
) -> Vec<f64> {
    let [m, c, kh, kw] = match weight.shape.as_slice() {
        [m, c, kh, kw] => [*m, *c, *kh, *kw],
        _ => return Vec::new(),
    };
    let mut kernel = vec![0f64; m * c * plane];
    for o in 0..m {
        for ic in 0..c {
            for dy in 0..kh {
                for dx in 0..kw {
                    let s = (dy as i64 - pt as i64) * bw as i64 + dx as i64 - pl as i64;
                    let s = s.rem_euclid(plane as i64) as usize;
                    let v = weight.data[((o * c + ic) * kh + dy) * kw + dx];
                    kernel[(o * c + ic) * plane + s] += f64::from(v);
                }
            }
        }
    }
    kernel
}

/// Kernel rows `[m][4c·P/4]` of a stride-2 convolution reading the four phase planes of each
/// input box (`bw` wide, `plane` cells) and writing the `(bh/2) × (bw/2)` box of its outputs:
/// tap `(dy, dx)` reads phase `((dy − pt) mod 2, (dx − pl) mod 2)` at offset
/// `⌊(dy − pt)/2⌋·bw/2 + ⌊(dx − pl)/2⌋`. This is the stride-1 correlation of [`kernel_rows`] at
/// the even positions, wrap-around included, so its padding needs are the same.
pub(super) fn phase_kernel_rows(
    weight: &Tensor,
    pt: usize,
    pl: usize,
    bw: usize,
    plane: usize,
) -> Vec<f64> {
    let [m, c, kh, kw] = match weight.shape.as_slice() {
        [m, c, kh, kw] => [*m, *c, *kh, *kw],
        _ => return Vec::new(),
    };
    let (quarter, qw) = (plane / 4, (bw / 2) as i64);
    let mut kernel = vec![0f64; m * 4 * c * quarter];
    for o in 0..m {
        for ic in 0..c {
            for dy in 0..kh {
                for dx in 0..kw {
                    let (ry, rx) = (dy as i64 - pt as i64, dx as i64 - pl as i64);
                    let phase = (ry.rem_euclid(2) * 2 + rx.rem_euclid(2)) as usize;
                    let s = ry.div_euclid(2) * qw + rx.div_euclid(2);
                    let s = s.rem_euclid(quarter as i64) as usize;
                    let v = weight.data[((o * c + ic) * kh + dy) * kw + dx];
                    kernel[((o * c + ic) * 4 + phase) * quarter + s] += f64::from(v);
                }
            }
        }
    }
    kernel
}

/// Row order of a patch layer with `m` output channels over `bh × bw` boxes: each 2×2 window's
/// four cells consecutive (bits `[dx, dy]` of the row), windows in the half boxes' order
/// ([`grid_cell`], phased or not), channel `o` the top digit (so that the rows of padded
/// channels are left out).
pub(super) fn window_order(m: usize, (bh, bw): (usize, usize), phased: bool) -> Vec<u32> {
    (0..m * bh * bw)
        .map(|r| {
            let (o, wy, wx) = grid_cell(r / 4, (bh / 2, bw / 2), phased);
            (o * bh * bw + (2 * wy + (r >> 1 & 1)) * bw + 2 * wx + (r & 1)) as u32
        })
        .collect()
}

/// Row order of a patch layer with `m` output channels over `bh × bw` boxes, row by row or
/// phased ([`grid_cell`]).
pub(super) fn grid_order(m: usize, (bh, bw): (usize, usize), phased: bool) -> Vec<u32> {
    (0..m * bh * bw)
        .map(|r| {
            let (o, y, x) = grid_cell(r, (bh, bw), phased);
            (o * bh * bw + y * bw + x) as u32
        })
        .collect()
}

/// The mask of a block-diagonal layer over the 2×2 windows of `m` boxes of `bh × bw` (in
/// [`window_order`], `pattern.len()` activations per window): `pattern` for the windows
/// `(wy, wx)` with `wy < hp` and `wx < wp`, zeros for the others. Its outputs are the `m` half
/// boxes (phased or not) with zeros outside the `hp × wp` image.
pub(super) fn window_mask(
    m: usize,
    (bh, bw): (usize, usize),
    (hp, wp): (usize, usize),
    pattern: &[f64],
    phased: bool,
) -> Vec<f64> {
    (0..m * bh * bw / 4)
        .flat_map(|win| {
            let (_, wy, wx) = grid_cell(win, (bh / 2, bw / 2), phased);
            let inside = wy < hp && wx < wp;
            pattern.iter().map(move |&v| if inside { v } else { 0.0 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_order_is_a_permutation_with_windows_consecutive() {
        let order = window_order(3, (8, 4), false);
        assert_eq!(order.len(), 96);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..96).collect::<Vec<u32>>());
        // the first window is (0, 0), (0, 1), (1, 0), (1, 1) of channel 0
        assert_eq!(&order[..4], &[0, 1, 4, 5]);
        // and the order is the AIR's mixed-radix kind, padded channels included
        assert!(crate::quant::model::order_digits(&window_order(4, (8, 4), false)).is_some());
        assert!(crate::quant::model::order_digits_padded(&order, 128).is_some());
        // phased windows and phased grids are orders of that kind too
        for order in [window_order(3, (8, 8), true), grid_order(3, (8, 4), true)] {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..order.len() as u32).collect::<Vec<u32>>());
            assert!(
                crate::quant::model::order_digits_padded(&order, 4 * order.len() / 3).is_some()
            );
        }
        // the second window of a phased 8×8 box is (0, 2), its fifth (0, 1)
        let phased = window_order(1, (8, 8), true);
        assert_eq!(
            (&phased[4..8], &phased[16..20]),
            (&[4, 5, 12, 13][..], &[2, 3, 10, 11][..])
        );
    }

    #[test]
    fn masks_keep_the_image_and_clear_the_spare_cells() {
        let img = Image {
            c: 2,
            h: 3,
            w: 2,
            bh: 4,
            bw: 4,
            clean: false,
            phased: false,
        };
        let mask = img.inside_mask();
        assert_eq!(mask.len(), 32);
        assert_eq!(mask.iter().sum::<f64>(), 12.0);
        assert_eq!(mask[img.cell(1, 2, 1)], 1.0);
        assert_eq!(mask[img.cell(1, 2, 2)], 0.0);
        // 2 boxes of 4×4: 4 windows each, 2×1 of them inside; the first value of each kept
        let sub = window_mask(2, (4, 4), (2, 1), &[1.0, 0.0, 0.0, 0.0], false);
        assert_eq!(sub.len(), 32);
        let kept: Vec<usize> = (0..32).filter(|&i| sub[i] != 0.0).collect();
        assert_eq!(kept, [0, 8, 16, 24]);
        // phased, every activation is where `cell` says
        let phased = Image {
            phased: true,
            ..img
        };
        for (i, &v) in phased.inside_mask().iter().enumerate() {
            let (ch, y, x) = grid_cell(i, (4, 4), true);
            assert_eq!(phased.cell(ch, y, x), i);
            assert_eq!(v, f64::from(u8::from(y < 3 && x < 2)));
        }
    }

    #[test]
    fn a_tap_left_of_the_image_wraps_to_the_row_above() {
        let w = Tensor::new(vec![1, 1, 1, 3], vec![1.0, 2.0, 3.0]).unwrap();
        let rows = kernel_rows(&w, 0, 1, 8, 64);
        assert_eq!((rows[63], rows[0], rows[1]), (1.0, 2.0, 3.0));
    }
}
