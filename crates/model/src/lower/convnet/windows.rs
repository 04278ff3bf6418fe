//! Pooling windows: the in-bounds cells of every window, padding short windows to a power of two,
//! and the pool stages built from them.

use crate::error::Result;
use crate::exec::conv::{output_dim, tap};
use crate::ir::graph::Node;
use crate::lower::convnet::builder::Builder;
use crate::lower::convnet::stages::{unsupported, Stage, MAX_ACTIVATIONS};

/// ONNX indices of the in-bounds cells of every pooling window, channel by channel, row by row,
/// with the output height and width (`ceil_mode = 0`; padded cells are left out).
pub(crate) fn windows(
    node: &Node,
    [c, h, w]: [usize; 3],
    kernel: [usize; 2],
    strides: [usize; 2],
    [pt, pl, pb, pr]: [usize; 4],
) -> Result<(Vec<Vec<usize>>, usize, usize)> {
    let (Some(ho), Some(wo)) = (
        output_dim(h, kernel[0], strides[0], pt, pb),
        output_dim(w, kernel[1], strides[1], pl, pr),
    ) else {
        return Err(unsupported(node, "window larger than the padded input"));
    };
    let cells = [c, ho, wo, kernel[0], kernel[1]]
        .iter()
        .try_fold(1usize, |acc, &v| acc.checked_mul(v));
    if cells.is_none_or(|n| n > MAX_ACTIVATIONS) {
        return Err(unsupported(node, "its windows hold too many values"));
    }
    let mut out = Vec::new();
    for ch in 0..c {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut win = Vec::new();
                for ky in 0..kernel[0] {
                    for kx in 0..kernel[1] {
                        let y = tap(oy, strides[0], ky, pt, h);
                        let x = tap(ox, strides[1], kx, pl, w);
                        if let (Some(y), Some(x)) = (y, x) {
                            win.push(ch * h * w + y * w + x);
                        }
                    }
                }
                if win.is_empty() {
                    return Err(unsupported(node, "a window lies entirely in the padding"));
                }
                out.push(win);
            }
        }
    }
    Ok((out, ho, wo))
}

/// Pads every window to `size` cells by repeating its first one (which leaves a maximum unchanged)
/// and returns the mask that is 1 on original cells and 0 on the repeats, window after window.
pub(crate) fn pad_windows(windows: &mut [Vec<usize>], size: usize) -> Vec<f64> {
    let mut mask = Vec::with_capacity(windows.len() * size);
    for win in windows {
        mask.extend((0..size).map(|i| if i < win.len() { 1.0 } else { 0.0 }));
        let first = win[0];
        win.resize(size, first);
    }
    mask
}

/// An average pool: windows padded to one size with masked repeats, divided by `divisor` through
/// the multiplier `round(2^16 / divisor)`.
pub(crate) fn pool(
    b: &mut Builder,
    node: &Node,
    mut windows: Vec<Vec<usize>>,
    divisor: usize,
) -> Result<()> {
    let size = windows.iter().map(Vec::len).max().unwrap_or(0);
    if size == 0 || divisor == 0 || divisor > 1 << 16 {
        return Err(unsupported(
            node,
            "the pooling window must hold 1 to 65536 values",
        ));
    }
    b.pool_offset(node, &windows, Some(divisor))?;
    let mask = pad_windows(&mut windows, size);
    b.group_outputs(node, &windows)?;
    b.stages.push(Stage::AvgPool {
        size,
        divisor,
        mask,
    });
    b.parts = (0..windows.len()).map(|i| vec![(i, 1.0)]).collect();
    b.width = windows.len();
    Ok(())
}
