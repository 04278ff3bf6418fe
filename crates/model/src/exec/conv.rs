//! 2-D convolution, pooling and batch-normalization kernels (NCHW, batch 1) for the float executor.
//!
//! Every kernel checks its shapes and bounds its work ([`MAX_CONV_WORK`], the element limit of
//! [`MAX_TENSOR_ELEMENTS`]) and returns a [`ModelError`] naming the op and node instead of panicking.
//! Sums are accumulated in `f64` and rounded to `f32` once per output.
//!
//! Pads are in ONNX order `[top, left, bottom, right]` (`[x1_begin, x2_begin, x1_end, x2_end]`). Output
//! sizes use ONNX's floor rule (`ceil_mode = 0`): `out = (in + pad_begin + pad_end - kernel) / stride + 1`.
//!
//! About 600 lines: the convolution, pooling and batch-norm kernels share their window and work
//! checks, and their tests (about a third of the file) stay beside them.

use crate::error::{ModelError, Result};
use crate::exec::limits::{MAX_CONV_WORK, MAX_TENSOR_ELEMENTS};
use crate::ir::graph::Tensor;

/// How a pooling window is reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum of the in-bounds elements (padding never wins).
    Max,
    /// Average; with `count_include_pad` padding cells count (as zeros) in the divisor.
    Average {
        /// ONNX `count_include_pad`.
        count_include_pad: bool,
    },
}

/// Output size of one spatial axis: `(input + pad_begin + pad_end - kernel) / stride + 1`, or `None`
/// if `kernel` or `stride` is zero, the kernel is larger than the padded input, or on overflow.
pub(crate) fn output_dim(
    input: usize,
    kernel: usize,
    stride: usize,
    pad_begin: usize,
    pad_end: usize,
) -> Option<usize> {
    if kernel == 0 || stride == 0 {
        return None;
    }
    let padded = input.checked_add(pad_begin)?.checked_add(pad_end)?;
    Some(padded.checked_sub(kernel)? / stride + 1)
}

/// ONNX `auto_pad = SAME_UPPER` (`upper`) or `SAME_LOWER` pads `(begin, end)` of one axis: the output
/// has `ceil(input / stride)` elements and the odd padding element goes to the end (upper) or the
/// beginning (lower). `None` for a zero stride or on overflow.
pub(crate) fn same_pads(
    input: usize,
    kernel: usize,
    stride: usize,
    upper: bool,
) -> Option<(usize, usize)> {
    if stride == 0 {
        return None;
    }
    let out = input.div_ceil(stride);
    let needed = out
        .saturating_sub(1)
        .checked_mul(stride)?
        .checked_add(kernel)?;
    let total = needed.saturating_sub(input);
    let small = total / 2;
    let big = total - small;
    Some(if upper { (small, big) } else { (big, small) })
}

fn mismatch(
    op: &str,
    node: &str,
    expected: impl Into<String>,
    got: impl Into<String>,
) -> ModelError {
    ModelError::ShapeMismatch {
        context: format!("{op} node `{node}`"),
        expected: expected.into(),
        got: got.into(),
    }
}

/// `[1, C, H, W]` → `(C, H, W)`.
fn nchw(op: &str, node: &str, x: &Tensor) -> Result<(usize, usize, usize)> {
    match x.shape.as_slice() {
        [1, c, h, w] => Ok((*c, *h, *w)),
        other => Err(mismatch(
            op,
            node,
            "an NCHW input [1, C, H, W]",
            format!("{other:?}"),
        )),
    }
}

fn check_work(op: &str, node: &str, out_len: usize, per_output: usize) -> Result<()> {
    let too_large = |what, limit: usize, got: usize| ModelError::NodeTooLarge {
        op: op.to_string(),
        node: node.to_string(),
        what,
        limit: limit as u64,
        got: got as u64,
    };
    if out_len > MAX_TENSOR_ELEMENTS {
        return Err(too_large("output elements", MAX_TENSOR_ELEMENTS, out_len));
    }
    let work = out_len.saturating_mul(per_output);
    if work > MAX_CONV_WORK {
        return Err(too_large("multiply-adds", MAX_CONV_WORK, work));
    }
    Ok(())
}

/// Output `(oh, ow)` of a window over `(h, w)`, or a shape error naming op and node.
fn window_out(
    op: &str,
    node: &str,
    (h, w): (usize, usize),
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<(usize, usize)> {
    let [kh, kw] = kernel;
    let [sh, sw] = strides;
    let [pt, pl, pb, pr] = pads;
    match (output_dim(h, kh, sh, pt, pb), output_dim(w, kw, sw, pl, pr)) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => Err(mismatch(
            op,
            node,
            format!(
                "a nonzero kernel and strides, kernel no larger than the padded input \
                 (kernel {kh}x{kw}, strides {sh}x{sw})"
            ),
            format!("input {h}x{w} with pads {pads:?}"),
        )),
    }
}

/// Input coordinate of kernel tap `k` for output `o`: `o * stride + k - pad_begin`, `None` in the
/// padding.
pub(crate) fn tap(
    o: usize,
    stride: usize,
    k: usize,
    pad_begin: usize,
    size: usize,
) -> Option<usize> {
    o.checked_mul(stride)?
        .checked_add(k)?
        .checked_sub(pad_begin)
        .filter(|&i| i < size)
}

/// 2-D convolution (group 1, dilation 1): `x [1, C, H, W]`, `w [M, C, kh, kw]`, optional `b [M]`
/// (or one value per output channel in any shape of `M` elements) → `[1, M, oh, ow]`.
///
/// # Errors
/// [`ModelError::ShapeMismatch`] (naming `op` and `node`) for wrong ranks or channel counts, a zero
/// stride, or a kernel larger than the padded input; [`ModelError::NodeTooLarge`] beyond
/// [`MAX_TENSOR_ELEMENTS`] outputs or [`MAX_CONV_WORK`] multiply-adds.
pub(crate) fn conv2d(
    op: &str,
    node: &str,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<Tensor> {
    let (c, h, wd) = nchw(op, node, x)?;
    let (m, kh, kw) = match w.shape.as_slice() {
        [m, wc, kh, kw] if *wc == c => (*m, *kh, *kw),
        other => {
            return Err(mismatch(
                op,
                node,
                format!("a weight [M, {c}, kh, kw] (2-D, group 1)"),
                format!("{other:?}"),
            ))
        }
    };
    if let Some(b) = b {
        if b.len() != m {
            return Err(mismatch(
                op,
                node,
                format!("a bias of {m} values"),
                format!("{:?}", b.shape),
            ));
        }
    }
    let (oh, ow) = window_out(op, node, (h, wd), [kh, kw], strides, pads)?;
    let out_len = m.saturating_mul(oh).saturating_mul(ow);
    check_work(op, node, out_len, c.saturating_mul(kh).saturating_mul(kw))?;
    let [sh, sw] = strides;
    let [pt, pl, _, _] = pads;
    let px = |ci: usize, i: usize, j: usize| x.data.get((ci * h + i) * wd + j).copied();
    let mut data = Vec::with_capacity(out_len);
    for mo in 0..m {
        let bias = b.and_then(|b| b.data.get(mo)).copied().unwrap_or(0.0);
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = f64::from(bias);
                for ci in 0..c {
                    for ky in 0..kh {
                        let Some(iy) = tap(oy, sh, ky, pt, h) else {
                            continue;
                        };
                        for kx in 0..kw {
                            let Some(ix) = tap(ox, sw, kx, pl, wd) else {
                                continue;
                            };
                            let wv = w.data.get(((mo * c + ci) * kh + ky) * kw + kx).copied();
                            if let (Some(v), Some(wv)) = (px(ci, iy, ix), wv) {
                                acc += f64::from(v) * f64::from(wv);
                            }
                        }
                    }
                }
                data.push(acc as f32);
            }
        }
    }
    Tensor::new(vec![1, m, oh, ow], data)
}

/// Max or average pooling of `x [1, C, H, W]` → `[1, C, oh, ow]`. Pads must be smaller than the
/// kernel (as onnxruntime requires), so every window holds at least one input element.
///
/// # Errors
/// As [`conv2d`], plus a shape error if a pad is not smaller than the kernel.
pub(crate) fn pool2d(
    op: &str,
    node: &str,
    x: &Tensor,
    kind: PoolKind,
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<Tensor> {
    let (c, h, wd) = nchw(op, node, x)?;
    let [kh, kw] = kernel;
    let [pt, pl, pb, pr] = pads;
    if pt >= kh || pb >= kh || pl >= kw || pr >= kw {
        return Err(mismatch(
            op,
            node,
            format!("pads smaller than the kernel {kh}x{kw}"),
            format!("pads {pads:?}"),
        ));
    }
    let (oh, ow) = window_out(op, node, (h, wd), kernel, strides, pads)?;
    let out_len = c.saturating_mul(oh).saturating_mul(ow);
    check_work(op, node, out_len, kh.saturating_mul(kw))?;
    let [sh, sw] = strides;
    let mut data = Vec::with_capacity(out_len);
    for ci in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut max = f32::NEG_INFINITY;
                let mut sum = 0f64;
                let mut count = 0usize;
                for ky in 0..kh {
                    let Some(iy) = tap(oy, sh, ky, pt, h) else {
                        continue;
                    };
                    for kx in 0..kw {
                        let Some(ix) = tap(ox, sw, kx, pl, wd) else {
                            continue;
                        };
                        if let Some(&v) = x.data.get((ci * h + iy) * wd + ix) {
                            max = max.max(v);
                            sum += f64::from(v);
                            count += 1;
                        }
                    }
                }
                let v = match kind {
                    PoolKind::Max => max,
                    // With floor output sizes every window lies inside the padded input.
                    PoolKind::Average {
                        count_include_pad: true,
                    } => (sum / (kh * kw) as f64) as f32,
                    PoolKind::Average {
                        count_include_pad: false,
                    } => (sum / count.max(1) as f64) as f32,
                };
                data.push(v);
            }
        }
    }
    Tensor::new(vec![1, c, oh, ow], data)
}

/// Global average pooling: `[1, C, d1, d2, ...]` (rank ≥ 3) → `[1, C, 1, 1, ...]`.
///
/// # Errors
/// [`ModelError::ShapeMismatch`] for a rank below 3, a batch other than 1 or an empty spatial extent.
pub(crate) fn global_average_pool(op: &str, node: &str, x: &Tensor) -> Result<Tensor> {
    let (c, spatial) = match x.shape.as_slice() {
        [1, c, rest @ ..] if !rest.is_empty() => (*c, rest.iter().product::<usize>()),
        other => {
            return Err(mismatch(
                op,
                node,
                "an input [1, C, spatial...] of rank >= 3",
                format!("{other:?}"),
            ))
        }
    };
    if spatial == 0 {
        return Err(mismatch(
            op,
            node,
            "a non-empty spatial extent",
            "0 elements",
        ));
    }
    let data = x
        .data
        .chunks(spatial)
        .take(c)
        .map(|ch| (ch.iter().map(|&v| f64::from(v)).sum::<f64>() / spatial as f64) as f32)
        .collect();
    let mut shape = vec![1usize; x.shape.len()];
    if let Some(d) = shape.get_mut(1) {
        *d = c;
    }
    Tensor::new(shape, data)
}

/// Per-channel `(scale, shift)` of inference batch normalization:
/// `y = x * scale + shift` with `scale = γ / √(var + ε)` and `shift = β − mean · scale`, in `f64`.
///
/// # Errors
/// [`ModelError::ShapeMismatch`] if the four parameter tensors do not all have `channels` values;
/// [`ModelError::NonFinite`] if `var + ε` is not positive or a result is not finite.
pub(crate) fn batch_norm_affine(
    op: &str,
    node: &str,
    channels: usize,
    [gamma, beta, mean, var]: [&Tensor; 4],
    epsilon: f32,
) -> Result<Vec<(f64, f64)>> {
    for (what, t) in [("scale", gamma), ("B", beta), ("mean", mean), ("var", var)] {
        if t.len() != channels {
            return Err(mismatch(
                op,
                node,
                format!("{what} with {channels} values (one per channel)"),
                format!("{:?}", t.shape),
            ));
        }
    }
    let mut out = Vec::with_capacity(channels);
    for k in 0..channels {
        let at = |t: &Tensor| f64::from(t.data.get(k).copied().unwrap_or(0.0));
        let denom = at(var) + f64::from(epsilon);
        let scale = at(gamma) / denom.sqrt();
        let shift = at(beta) - at(mean) * scale;
        if !(denom > 0.0 && scale.is_finite() && shift.is_finite()) {
            return Err(ModelError::NonFinite {
                context: format!("{op} node `{node}`: channel {k} (var + epsilon must be > 0)"),
            });
        }
        out.push((scale, shift));
    }
    Ok(out)
}

/// Inference batch normalization over axis 1 of `x [1, C, ...]` (rank ≥ 2).
///
/// # Errors
/// As [`batch_norm_affine`], and a shape error for a rank below 2 or a batch other than 1.
pub(crate) fn batch_norm(
    op: &str,
    node: &str,
    x: &Tensor,
    params: [&Tensor; 4],
    epsilon: f32,
) -> Result<Tensor> {
    let (c, inner) = match x.shape.as_slice() {
        [1, c, rest @ ..] => (*c, rest.iter().product::<usize>()),
        other => {
            return Err(mismatch(
                op,
                node,
                "an input [1, C, ...] of rank >= 2",
                format!("{other:?}"),
            ))
        }
    };
    let affine = batch_norm_affine(op, node, c, params, epsilon)?;
    let mut data = Vec::with_capacity(x.len());
    for (ch, (scale, shift)) in x.data.chunks(inner.max(1)).zip(&affine) {
        data.extend(ch.iter().map(|&v| (f64::from(v) * scale + shift) as f32));
    }
    Tensor::new(x.shape.clone(), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    /// The 3x3 image 1..=9.
    fn img() -> Tensor {
        t(&[1, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8., 9.])
    }

    #[test]
    fn output_dims_and_same_pads() {
        assert_eq!(output_dim(8, 3, 1, 1, 1), Some(8));
        assert_eq!(output_dim(8, 2, 2, 0, 0), Some(4));
        assert_eq!(output_dim(3, 4, 1, 0, 0), None);
        assert_eq!(output_dim(3, 4, 1, 1, 0), Some(1));
        assert_eq!(output_dim(3, 0, 1, 0, 0), None);
        assert_eq!(output_dim(3, 1, 0, 0, 0), None);
        assert_eq!(output_dim(usize::MAX, 1, 1, 1, 0), None);
        // 8 wide, kernel 3, stride 2: 4 outputs need (4-1)*2+3 = 9, one pad, at the end for SAME_UPPER.
        assert_eq!(same_pads(8, 3, 2, true), Some((0, 1)));
        assert_eq!(same_pads(8, 3, 2, false), Some((1, 0)));
        assert_eq!(same_pads(3, 2, 1, true), Some((0, 1)));
        assert_eq!(same_pads(3, 2, 1, false), Some((1, 0)));
        assert_eq!(same_pads(5, 3, 1, true), Some((1, 1)));
        assert_eq!(same_pads(5, 1, 3, true), Some((0, 0)));
        assert_eq!(same_pads(5, 3, 0, true), None);
    }

    #[test]
    fn conv_with_padding_stride_and_bias() {
        // 2x2 kernel of ones, pad 1 on all sides, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1).
        let w = t(&[1, 1, 2, 2], &[1.; 4]);
        let b = t(&[1], &[0.5]);
        let y = conv2d("Conv", "c", &img(), &w, Some(&b), [2, 2], [1, 1, 1, 1]).unwrap();
        assert_eq!(y.shape, vec![1, 1, 2, 2]);
        // (-1,-1): only 1; (-1,1): 2 + 3; (1,-1): 4 + 7; (1,1): 5 + 6 + 8 + 9.
        assert_eq!(y.data, vec![1.5, 5.5, 11.5, 28.5]);
        // Two output channels, asymmetric pads (bottom/right only), no bias.
        let w2 = t(&[2, 1, 2, 2], &[1., 0., 0., 0., 0., 0., 0., 1.]);
        let y = conv2d("Conv", "c", &img(), &w2, None, [1, 1], [0, 0, 1, 1]).unwrap();
        assert_eq!(y.shape, vec![1, 2, 3, 3]);
        assert_eq!(&y.data[..9], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        assert_eq!(&y.data[9..], &[5., 6., 0., 8., 9., 0., 0., 0., 0.]);
    }

    #[test]
    fn conv_sums_over_input_channels() {
        let x = t(&[1, 2, 1, 2], &[1., 2., 10., 20.]);
        let w = t(&[1, 2, 1, 1], &[1., -1.]);
        let y = conv2d("Conv", "c", &x, &w, None, [1, 1], [0; 4]).unwrap();
        assert_eq!((y.shape, y.data), (vec![1, 1, 1, 2], vec![-9., -18.]));
    }

    #[test]
    fn conv_rejects_bad_shapes() {
        let w = t(&[1, 1, 4, 4], &[1.; 16]);
        let err = conv2d("Conv", "big", &img(), &w, None, [1, 1], [0; 4]).unwrap_err();
        assert!(err.to_string().contains("Conv node `big`"), "{err}");
        let w = t(&[1, 2, 1, 1], &[1., 1.]);
        assert!(conv2d("Conv", "c", &img(), &w, None, [1, 1], [0; 4]).is_err());
        let w = t(&[1, 1, 1, 1], &[1.]);
        assert!(conv2d("Conv", "c", &img(), &w, None, [0, 1], [0; 4]).is_err());
        let b = t(&[2], &[1., 1.]);
        assert!(conv2d("Conv", "c", &img(), &w, Some(&b), [1, 1], [0; 4]).is_err());
        let x = t(&[1, 9], &[0.; 9]);
        assert!(conv2d("Conv", "c", &x, &w, None, [1, 1], [0; 4]).is_err());
        let huge = usize::MAX / 2;
        let err = conv2d(
            "Conv",
            "c",
            &img(),
            &w,
            None,
            [1, 1],
            [huge, huge, huge, huge],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ModelError::ShapeMismatch { .. } | ModelError::NodeTooLarge { .. }
        ));
        let err = conv2d(
            "Conv",
            "c",
            &img(),
            &w,
            None,
            [1, 1],
            [0, 0, 1 << 20, 1 << 20],
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::NodeTooLarge { .. }), "{err:?}");
    }

    #[test]
    fn pools_with_padding_and_count_include_pad() {
        let p = [1, 1, 1, 1];
        let max = pool2d("MaxPool", "m", &img(), PoolKind::Max, [2, 2], [2, 2], p).unwrap();
        assert_eq!(
            (max.shape.clone(), max.data),
            (vec![1, 1, 2, 2], vec![1., 3., 7., 9.])
        );
        let neg = t(&[1, 1, 1, 2], &[-3., -1.]);
        let max = pool2d(
            "MaxPool",
            "m",
            &neg,
            PoolKind::Max,
            [1, 2],
            [1, 1],
            [0, 1, 0, 1],
        )
        .unwrap();
        // Padding never wins, even against negative values.
        assert_eq!(max.data, vec![-3., -1., -1.]);
        let avg = |cip| {
            let kind = PoolKind::Average {
                count_include_pad: cip,
            };
            pool2d("AveragePool", "a", &img(), kind, [2, 2], [2, 2], p)
                .unwrap()
                .data
        };
        // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}.
        assert_eq!(avg(false), vec![1., 2.5, 5.5, 7.]);
        assert_eq!(avg(true), vec![0.25, 1.25, 2.75, 7.]);
        let plain = PoolKind::Average {
            count_include_pad: false,
        };
        let y = pool2d("AveragePool", "a", &img(), plain, [2, 2], [1, 1], [0; 4]).unwrap();
        assert_eq!(y.data, vec![3., 4., 6., 7.]);
        // A pad as large as the kernel is refused.
        assert!(pool2d(
            "MaxPool",
            "m",
            &img(),
            PoolKind::Max,
            [2, 2],
            [1, 1],
            [2, 0, 0, 0]
        )
        .is_err());
        assert!(pool2d(
            "MaxPool",
            "m",
            &img(),
            PoolKind::Max,
            [4, 1],
            [1, 1],
            [0; 4]
        )
        .is_err());
        assert!(pool2d(
            "MaxPool",
            "m",
            &img(),
            PoolKind::Max,
            [1, 1],
            [1, 0],
            [0; 4]
        )
        .is_err());
    }

    #[test]
    fn global_average_pool_and_batch_norm() {
        let x = t(&[1, 2, 1, 2], &[1., 2., 10., 30.]);
        let g = global_average_pool("GlobalAveragePool", "g", &x).unwrap();
        assert_eq!((g.shape, g.data), (vec![1, 2, 1, 1], vec![1.5, 20.]));
        assert!(global_average_pool("GlobalAveragePool", "g", &t(&[1, 2], &[1., 2.])).is_err());
        let gamma = t(&[2], &[2., 1.]);
        let beta = t(&[2], &[1., 0.]);
        let mean = t(&[2], &[1., 10.]);
        let var = t(&[2], &[4., 0.25]);
        let y = batch_norm(
            "BatchNormalization",
            "bn",
            &x,
            [&gamma, &beta, &mean, &var],
            0.0,
        )
        .unwrap();
        // Channel 0: (x - 1) / 2 * 2 + 1; channel 1: (x - 10) / 0.5.
        assert_eq!(y.data, vec![1., 2., 0., 40.]);
        let zero = t(&[2], &[0., -1.]);
        assert!(matches!(
            batch_norm(
                "BatchNormalization",
                "bn",
                &x,
                [&gamma, &beta, &mean, &zero],
                0.5
            ),
            Err(ModelError::NonFinite { .. })
        ));
        let short = t(&[1], &[1.]);
        assert!(batch_norm(
            "BatchNormalization",
            "bn",
            &x,
            [&short, &beta, &mean, &var],
            0.0
        )
        .is_err());
    }
}
