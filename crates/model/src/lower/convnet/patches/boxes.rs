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
        ch * self.plane() + y * self.bw + x
    }

    /// Per activation: 1 inside the image, 0 on the spare cells (the mask that cleans a box).
    pub fn inside_mask(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| {
                let q = i % self.plane();
                f64::from(u8::from(q / self.bw < self.h && q % self.bw < self.w))
            })
            .collect()
    }
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

/// Row order of a patch layer with `m` output channels over `bh × bw` boxes: each 2×2 window's
/// four cells consecutive (bits `[dx, dy, px, py, o]` of the row), rows of padded channels left
/// out (`o` is the top digit, so the first `m·bh·bw` rows are the real channels).
pub(super) fn window_order(m: usize, bh: usize, bw: usize) -> Vec<u32> {
    let (hx, hy) = ((bw / 2).trailing_zeros(), (bh / 2).trailing_zeros());
    let plane = bh * bw;
    (0..m * plane)
        .map(|r| {
            let dx = r & 1;
            let dy = (r >> 1) & 1;
            let px = (r >> 2) & ((1 << hx) - 1);
            let py = (r >> (2 + hx)) & ((1 << hy) - 1);
            let o = r >> (2 + hx + hy);
            (o * plane + (2 * py + dy) * bw + 2 * px + dx) as u32
        })
        .collect()
}

/// The mask of a block-diagonal layer over the 2×2 windows of `m` boxes of `bh × bw` (in window
/// order, `pattern.len()` activations per window): `pattern` for the windows `(py, px)` with
/// `py < hp` and `px < wp`, zeros for the others. Its outputs are the `m` half boxes, natural
/// order, with zeros outside the `hp × wp` image.
pub(super) fn window_mask(
    m: usize,
    (bh, bw): (usize, usize),
    (hp, wp): (usize, usize),
    pattern: &[f64],
) -> Vec<f64> {
    let quarter = bh * bw / 4;
    (0..m * quarter)
        .flat_map(|win| {
            let (py, px) = ((win % quarter) / (bw / 2), win % (bw / 2));
            let inside = py < hp && px < wp;
            pattern.iter().map(move |&v| if inside { v } else { 0.0 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_order_is_a_permutation_with_windows_consecutive() {
        let order = window_order(3, 8, 4);
        assert_eq!(order.len(), 96);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..96).collect::<Vec<u32>>());
        // the first window is (0, 0), (0, 1), (1, 0), (1, 1) of channel 0
        assert_eq!(&order[..4], &[0, 1, 4, 5]);
        // and the order is the AIR's mixed-radix kind, padded channels included
        assert!(crate::quant::model::order_digits(&window_order(4, 8, 4)).is_some());
        assert!(crate::quant::model::order_digits_padded(&order, 128).is_some());
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
        };
        let mask = img.inside_mask();
        assert_eq!(mask.len(), 32);
        assert_eq!(mask.iter().sum::<f64>(), 12.0);
        assert_eq!(mask[img.cell(1, 2, 1)], 1.0);
        assert_eq!(mask[img.cell(1, 2, 2)], 0.0);
        // 2 boxes of 4×4: 4 windows each, 2×1 of them inside; the first value of each kept
        let sub = window_mask(2, (4, 4), (2, 1), &[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(sub.len(), 32);
        let kept: Vec<usize> = (0..32).filter(|&i| sub[i] != 0.0).collect();
        assert_eq!(kept, [0, 8, 16, 24]);
    }

    #[test]
    fn a_tap_left_of_the_image_wraps_to_the_row_above() {
        let w = Tensor::new(vec![1, 1, 1, 3], vec![1.0, 2.0, 3.0]).unwrap();
        let rows = kernel_rows(&w, 0, 1, 8, 64);
        assert_eq!((rows[63], rows[0], rows[1]), (1.0, 2.0, 3.0));
    }
}
