//! Plain convolutional chains as patch layers: `(Conv → Relu → MaxPool 2×2/2)+ → Flatten →
//! (Gemm → Relu)* → Gemm`, the shape of LeNet-5 and of most image classifiers people export.
//!
//! Each image lives in a power-of-two box (`glassbox_air::conv::PatchShape`) large enough for
//! its padding, so a convolution is one patch layer whose kernel is stored once. Its outputs are
//! ordered with each 2×2 window's four cells consecutive (bits `[dx, dy, px, py, o]` of the
//! row), so the max pool is the usual tournament of block-diagonal layers; a last layer adds each
//! window's pair and writes zero for windows outside the image, which leaves the pooled box with
//! zeros in its spare rows and columns: the next convolution's padding. The first dense layer
//! reads the pooled box (zero weights on its spare cells).
//!
//! Anything else (strides, other pools, skips, a box too small for the next padding) returns
//! `None`, and the general lowering takes the graph.

use crate::error::Result;
use crate::exec::conv::output_dim;
use crate::ir::graph::{Graph, Op, Operand, Tensor};
use crate::lower::convnet::stages::{Act, Affine, PatchStage, Stage, MAX_ACTIVATIONS};
use crate::lower::dense_layer::{add_bias, dense_from_weight};

/// The float stages of `graph` as patch layers, or `None` if it is not a plain chain whose boxes
/// fit.
pub(crate) fn patch_stages(graph: &Graph) -> Result<Option<Vec<Stage>>> {
    let [c0, h0, w0] = match graph.input_shape.as_slice() {
        [1, c, h, w] => [*c, *h, *w],
        _ => return Ok(None),
    };
    let nodes = &graph.nodes[..graph.logits.min(graph.nodes.len())];
    // every node reads the value before it (value k is node k − 1's output), plus constants
    let chained = nodes.iter().enumerate().all(|(k, n)| {
        let values: Vec<usize> = n
            .inputs
            .iter()
            .filter_map(|o| match o {
                Operand::Value(v) => Some(*v),
                Operand::Const(_) => None,
            })
            .collect();
        values == [k]
    });
    if !chained || graph.binary_head {
        return Ok(None);
    }
    let consts = |k: usize| -> Vec<&Tensor> {
        nodes[k]
            .inputs
            .iter()
            .filter_map(|o| match o {
                Operand::Const(c) => graph.constants.get(*c),
                Operand::Value(_) => None,
            })
            .collect()
    };
    let (mut c, mut h, mut w) = (c0, h0, w0);
    let mut stages = Vec::new();
    let mut k = 0;
    // the box of the current image, once placed
    let mut boxed: Option<(usize, usize)> = None;
    while let Some(Op::Conv { strides, pads }) = nodes.get(k).map(|n| &n.op) {
        let (
            Some(Op::Relu),
            Some(Op::MaxPool {
                kernel,
                strides: ps,
                pads: pp,
            }),
        ) = (
            nodes.get(k + 1).map(|n| &n.op),
            nodes.get(k + 2).map(|n| &n.op),
        )
        else {
            return Ok(None);
        };
        if *strides != [1, 1] || *kernel != [2, 2] || *ps != [2, 2] || *pp != [0; 4] {
            return Ok(None);
        }
        let wt = consts(k);
        let Some(weight) = wt.first() else {
            return Ok(None);
        };
        let [m, wc, kh, kw] = match weight.shape.as_slice() {
            [m, wc, kh, kw] => [*m, *wc, *kh, *kw],
            _ => return Ok(None),
        };
        let [pt, pl, pb, pr] = *pads;
        let (Some(ho), Some(wo)) = (output_dim(h, kh, 1, pt, pb), output_dim(w, kw, 1, pl, pr))
        else {
            return Ok(None);
        };
        let need = (h + pt.max(pb), w + pl.max(pr));
        let (bh, bw) = match boxed {
            None => {
                let b = (need.0.next_power_of_two(), need.1.next_power_of_two());
                stages.push(Stage::Boxed {
                    height: h,
                    width: w,
                    box_h: b.0,
                    box_w: b.1,
                });
                b
            }
            Some(b) => b,
        };
        let plane = bh * bw;
        let o_pad = m.next_power_of_two();
        if wc != c || need.0 > bh || need.1 > bw || bh < 2 || bw < 2 || m * plane > MAX_ACTIVATIONS
        {
            return Ok(None);
        }
        // kernel rows: tap (dy, dx) at offset (dy − pt)·bw + (dx − pl), modulo the plane
        let mut kernel = vec![0f64; m * c * plane];
        for o in 0..m {
            for ic in 0..c {
                for dy in 0..kh {
                    for dx in 0..kw {
                        let s = (dy as i64 - pt as i64) * bw as i64 + dx as i64 - pl as i64;
                        let s = s.rem_euclid(plane as i64) as usize;
                        let v = weight.data[((o * wc + ic) * kh + dy) * kw + dx];
                        kernel[o * c * plane + ic * plane + s] += f64::from(v);
                    }
                }
            }
        }
        let bias = (0..m)
            .map(|o| {
                wt.get(1)
                    .and_then(|t| t.data.get(o))
                    .map_or(0.0, |&v| f64::from(v))
            })
            .collect();
        stages.push(Stage::Patch(PatchStage {
            planes: c,
            plane,
            out_channels: m,
            kernel,
            bias,
            act: Act::Relu,
            order: window_order(m, bh, bw, o_pad),
        }));
        // the pool: a tournament per window, then each window's pair added (zero outside)
        let windows = m * plane / 4;
        stages.push(Stage::MaxPool { windows, size: 4 });
        let (hp, wp) = (ho / 2, wo / 2);
        let mask = (0..windows)
            .flat_map(|win| {
                let (py, px) = ((win % (plane / 4)) / (bw / 2), win % (bw / 2));
                let inside = f64::from(u8::from(py < hp && px < wp));
                [inside, inside]
            })
            .collect();
        stages.push(Stage::AvgPool {
            size: 2,
            divisor: 1,
            mask,
        });
        (c, h, w) = (m, hp, wp);
        boxed = Some((bh / 2, bw / 2));
        k += 3;
    }
    let Some((bh, bw)) = boxed else {
        return Ok(None);
    };
    if !matches!(
        nodes.get(k).map(|n| &n.op),
        Some(Op::Flatten { .. } | Op::Reshape { .. })
    ) {
        return Ok(None);
    }
    k += 1;
    // dense layers; the first reads the pooled boxes
    let mut width = c * bh * bw;
    let mut first = true;
    while let Some(node) = nodes.get(k) {
        let Op::Gemm {
            alpha,
            beta,
            trans_a: false,
            trans_b,
        } = &node.op
        else {
            return Ok(None);
        };
        let cs = consts(k);
        let Some(wt) = cs.first() else {
            return Ok(None);
        };
        let n_flat = if first { c * h * w } else { width };
        let mut layer = dense_from_weight(node, wt, *trans_b, n_flat, *alpha)?;
        if let Some(b) = cs.get(1) {
            add_bias(node, &mut layer, b, *beta)?;
        }
        let n_out = layer.n_out;
        let mut dense = vec![0f64; n_out * width];
        for o in 0..n_out {
            for i in 0..n_flat {
                let j = if first {
                    let (ic, y, x) = (i / (h * w), (i / w) % h, i % w);
                    ic * bh * bw + y * bw + x
                } else {
                    i
                };
                dense[o * width + j] = f64::from(layer.weights[o * n_flat + i]);
            }
        }
        let relu = matches!(nodes.get(k + 1).map(|n| &n.op), Some(Op::Relu));
        stages.push(Stage::Affine(Affine {
            n_in: width,
            n_out,
            w: dense,
            b: layer.bias.iter().map(|&v| f64::from(v)).collect(),
            act: if relu { Act::Relu } else { Act::None },
            conv: None,
        }));
        width = n_out;
        first = false;
        k += if relu { 2 } else { 1 };
    }
    let ends_in_logits = matches!(stages.last(), Some(Stage::Affine(a)) if a.act == Act::None);
    Ok((!first && ends_in_logits).then_some(stages))
}

/// Row order of a patch layer with `m` output channels over `bh × bw` boxes: each 2×2 window's
/// four cells consecutive (bits `[dx, dy, px, py, o]` of the row), rows of padded channels left
/// out (`o` is the top digit, so the first `m·bh·bw` rows are the real channels).
fn window_order(m: usize, bh: usize, bw: usize, o_pad: usize) -> Vec<u32> {
    let (hx, hy) = ((bw / 2).trailing_zeros(), (bh / 2).trailing_zeros());
    let plane = bh * bw;
    (0..o_pad * plane)
        .map(|r| {
            let dx = r & 1;
            let dy = (r >> 1) & 1;
            let px = (r >> 2) & ((1 << hx) - 1);
            let py = (r >> (2 + hx)) & ((1 << hy) - 1);
            let o = r >> (2 + hx + hy);
            (o * plane + (2 * py + dy) * bw + 2 * px + dx) as u32
        })
        .take(m * plane)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_order_is_a_permutation_with_windows_consecutive() {
        let order = window_order(3, 8, 4, 4);
        assert_eq!(order.len(), 96);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..96).collect::<Vec<u32>>());
        // the first window is (0, 0), (0, 1), (1, 0), (1, 1) of channel 0
        assert_eq!(&order[..4], &[0, 1, 4, 5]);
        // and the order is the AIR's mixed-radix kind, padded channels included
        assert!(crate::quant::model::order_digits(&window_order(4, 8, 4, 4)).is_some());
        assert!(crate::quant::model::order_digits_padded(&order, 128).is_some());
    }
}
