//! Calibration and quantization of the float stages: scales from the float forward pass, the integer
//! layers of every stage, and the fidelity of the result against the float graph.

use crate::error::{ModelError, Result};
use crate::ir::graph::Graph;
use crate::lower::convnet::clear::clear_by_bias;
use crate::lower::convnet::stages::{forward, Act, PatchStage, Stage, IDENTITY};
use crate::lower::smooth::expand::{table_range, ActivationFidelity};
use crate::lower::smooth::scalar::ScalarFn;
use crate::lower::smooth::table::{table_error, TableQuant};
use crate::quant::encoding::InputEncoding;
use crate::quant::fidelity::{fidelity_against, FidelityReport};
use crate::quant::model::{
    PatchGeometry, QuantizedDense, QuantizedModel, BIAS_LIMIT, DEFAULT_INPUT_RANGE,
};

/// The integer model of `stages`, and the fit of each smooth activation's table.
pub(crate) fn quantize(
    graph: &Graph,
    stages: &[Stage],
    samples: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, Vec<ActivationFidelity>)> {
    let mut reports = Vec::new();
    // calibration: input range and the largest activation after every dense stage
    let mut x_max = 0f64;
    let mut act_max = vec![0f64; stages.len()];
    // the pre-activation range of every smooth stage (its table's range)
    let mut pre = vec![(f64::INFINITY, f64::NEG_INFINITY); stages.len()];
    for s in samples.unwrap_or_default() {
        if s.len() != graph.input_len || s.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "calibration sample".into(),
            });
        }
        let x: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
        x_max = x.iter().fold(x_max, |m, v| m.max(v.abs()));
        let outs = forward(stages, &x);
        for (si, stage) in stages.iter().enumerate() {
            let input = if si == 0 { &x } else { &outs[si - 1] };
            let z = match stage {
                Stage::Affine(a) if a.act == Act::Smooth => a.affine(input),
                Stage::Patch(p) if p.act == Act::Smooth => p.apply(input),
                _ => continue,
            };
            let (lo, hi) = &mut pre[si];
            for v in z {
                (*lo, *hi) = (lo.min(v), hi.max(v));
            }
        }
        for (m, a) in act_max.iter_mut().zip(outs) {
            *m = a.iter().fold(*m, |m, v| m.max(*v));
        }
    }
    let input_scale = if x_max > 0.0 {
        x_max
    } else {
        DEFAULT_INPUT_RANGE
    } / 127.0;
    let mut bound = if x_max > 0.0 {
        x_max
    } else {
        DEFAULT_INPUT_RANGE
    };
    let mut s = input_scale;
    let mut layers = Vec::new();
    let mut encoding = InputEncoding::Symmetric;
    let mut input_len = graph.input_len;
    let mut output_scale = 1.0;
    let last = stages.len() - 1;
    for (si, stage) in stages.iter().enumerate() {
        let li = layers.len();
        match stage {
            Stage::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => {
                encoding = InputEncoding::Boxed {
                    height: *height as u32,
                    width: *width as u32,
                    box_h: *box_h as u32,
                    box_w: *box_w as u32,
                };
                input_len = graph.input_len / (height * width) * box_h * box_w;
            }
            Stage::Patch(p) if p.act == Act::Smooth => {
                let (weights, s_w) = quantize_weights(&p.kernel);
                let table = smooth_table(p.smooth.as_ref(), pre[si], s * s_w, li, &mut reports)?;
                let bias = patch_bias(p, table.lo, s * s_w, li)?;
                s = table.out_scale;
                bound = 255.0 * s;
                layers.push(patch_layer(
                    p,
                    weights,
                    bias,
                    table.multiplier,
                    Some(table.values),
                ));
            }
            Stage::Patch(p) => {
                let (layer, scale) =
                    quantize_patch(p, s, bound, act_max[si], samples.is_some(), li)?;
                bound = layer.1;
                s = scale;
                let mut layer = layer.0;
                // the range of this layer's integer inputs
                let inputs = match layers.last() {
                    None => (-128, 127),
                    Some(QuantizedDense { table: Some(_), .. }) => (-255, 255),
                    Some(_) => (0, 255),
                };
                let mask = p
                    .clear
                    .as_ref()
                    .filter(|c| !clear_by_bias(&mut layer, c, inputs));
                layers.push(layer);
                if let Some(mask) = mask {
                    layers.push(pool_layer(mask, 1, 1));
                }
            }
            Stage::Affine(a) if a.act == Act::Smooth && si != last => {
                let (weights, s_w) = quantize_weights(&a.w);
                let table = smooth_table(a.smooth.as_ref(), pre[si], s * s_w, li, &mut reports)?;
                let shifted: Vec<f64> = a.b.iter().map(|b| b - table.lo).collect();
                let bias = quantize_bias(&shifted, s * s_w, li)?;
                s = table.out_scale;
                bound = 255.0 * s;
                layers.push(QuantizedDense {
                    n_in: a.n_in,
                    n_out: a.n_out,
                    weights,
                    bias,
                    multiplier: Some(table.multiplier),
                    groups: 1,
                    conv: a.conv.clone(),
                    patch: None,
                    table: Some(table.values),
                });
            }
            Stage::Affine(a) => {
                let (weights, s_w) = quantize_weights(&a.w);
                let bias = quantize_bias(&a.b, s * s_w, li)?;
                let multiplier = if si == last {
                    output_scale = s * s_w;
                    None
                } else {
                    // worst case without calibration: Σ|W|·bound + |b|
                    let worst = (0..a.n_out)
                        .map(|o| {
                            a.w[o * a.n_in..(o + 1) * a.n_in]
                                .iter()
                                .map(|v| v.abs())
                                .sum::<f64>()
                                * bound
                                + a.b[o].abs()
                        })
                        .fold(0f64, f64::max);
                    let top = match a.act {
                        Act::Relu6 => 6.0,
                        _ if samples.is_some() && act_max[si] > 0.0 => act_max[si],
                        _ => worst.max(1e-9),
                    };
                    bound = top;
                    let m = (s * s_w / (top / 255.0) * 65536.0)
                        .round()
                        .clamp(1.0, 65535.0);
                    s = s * s_w * 65536.0 / m;
                    Some(m as u32)
                };
                layers.push(QuantizedDense {
                    n_in: a.n_in,
                    n_out: a.n_out,
                    weights,
                    bias,
                    multiplier,
                    groups: 1,
                    conv: a.conv.clone(),
                    patch: None,
                    table: None,
                });
            }
            Stage::MaxPool { windows, size } => {
                // [a, b, c, d] ↦ [relu(a − b), b, relu(c − d), d] per four, then halvings
                // [u1, v1, u2, v2] ↦ [relu(u1 + v1 − u2 − v2), u2 + v2] down to one pair per window
                let p1: [i8; 16] = [1, -1, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1, 0, 0, 0, 1];
                let p2: [i8; 8] = [1, 1, -1, -1, 0, 0, 1, 1];
                let mut n = windows * size;
                layers.push(tile(&p1, n, n));
                while n > 2 * windows {
                    layers.push(tile(&p2, n, n / 2));
                    n /= 2;
                }
            }
            Stage::AvgPool {
                size,
                divisor,
                mask,
            } => layers.push(pool_layer(mask, *size, *divisor)),
        }
    }
    let model = QuantizedModel {
        name: graph.name.clone(),
        input_len,
        input_scale,
        input_encoding: encoding,
        layers,
        output_scale,
        classifier: graph.classifier,
        proof_batch: None,
    };
    model.validate()?;
    Ok((model, reports))
}

/// Int8 weights on one symmetric scale (the largest magnitude is 127), and that scale.
fn quantize_weights(w: &[f64]) -> (Vec<i8>, f64) {
    let w_max = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    let s_w = if w_max > 0.0 { w_max / 127.0 } else { 1.0 };
    let q = w
        .iter()
        .map(|v| (v / s_w).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, s_w)
}

/// Integer biases at the accumulator scale `scale` (layer `li`, for the error).
fn quantize_bias(b: &[f64], scale: f64, li: usize) -> Result<Vec<i64>> {
    b.iter()
        .enumerate()
        .map(|(i, v)| {
            let q = (v / scale).round();
            if q.is_finite() && q.abs() < BIAS_LIMIT as f64 {
                Ok(q as i64)
            } else {
                Err(ModelError::BiasOverflow {
                    layer: li,
                    index: i,
                    value: if q.is_finite() { q as i64 } else { i64::MAX },
                })
            }
        })
        .collect()
}

/// The patch layer of `p` for inputs of scale `s` bounded by `bound` (its calibrated output
/// maximum `top`, if `calibrated`): the layer with the bound of its outputs, and their scale.
fn quantize_patch(
    p: &PatchStage,
    s: f64,
    bound: f64,
    top: f64,
    calibrated: bool,
    li: usize,
) -> Result<((QuantizedDense, f64), f64)> {
    let (weights, s_w) = quantize_weights(&p.kernel);
    let bias = patch_bias(p, 0.0, s * s_w, li)?;
    let n_in = p.planes * p.plane;
    let worst = p
        .kernel
        .chunks(n_in)
        .zip(&p.bias)
        .map(|(row, b)| row.iter().map(|v| v.abs()).sum::<f64>() * bound + b.abs())
        .fold(0f64, f64::max);
    let top = if calibrated && top > 0.0 {
        top
    } else {
        worst.max(1e-9)
    };
    let m = (s * s_w / (top / 255.0) * 65536.0)
        .round()
        .clamp(1.0, 65535.0);
    let layer = patch_layer(p, weights, bias, m as u32, None);
    Ok(((layer, top), s * s_w * 65536.0 / m))
}

/// The block-diagonal layer of an average pool (or a mask, `size` 1): `Σ mask·x / divisor` over
/// each group of `size` consecutive values, through the multiplier `round(2^16 / divisor)`.
pub(super) fn pool_layer(mask: &[f64], size: usize, divisor: usize) -> QuantizedDense {
    let windows = mask.len() / size.max(1);
    let multiplier = (f64::from(IDENTITY) / divisor.max(1) as f64)
        .round()
        .max(1.0);
    QuantizedDense {
        n_in: mask.len(),
        n_out: windows,
        weights: mask.iter().map(|&m| m as i8).collect(),
        bias: vec![0; windows],
        multiplier: Some(multiplier as u32),
        groups: windows,
        conv: None,
        patch: None,
        table: None,
    }
}

/// The table of a smooth stage (function `f`, pre-activations calibrated on `pre`, accumulators
/// of scale `s_acc`) that becomes layer `li`, with its fit added to `reports`.
fn smooth_table(
    f: Option<&ScalarFn>,
    pre: (f64, f64),
    s_acc: f64,
    li: usize,
    reports: &mut Vec<ActivationFidelity>,
) -> Result<TableQuant> {
    let f =
        f.ok_or_else(|| ModelError::InvalidModel("a smooth stage without its function".into()))?;
    let range = table_range(f, pre)?;
    let table = TableQuant::new(f, range, s_acc)?;
    reports.push(ActivationFidelity {
        layer: li,
        function: f.describe(),
        range,
        segments: table.values.len(),
        error: table_error(f, &table, range, s_acc)?,
    });
    Ok(table)
}

/// The integer bias of each output row of a patch stage: its channel's bias, its own shift (see
/// [`PatchStage::bias_shift`]) and `−lo` for a table's index, on accumulator scale `s_acc`.
fn patch_bias(p: &PatchStage, lo: f64, s_acc: f64, li: usize) -> Result<Vec<i64>> {
    let float: Vec<f64> = p
        .order
        .iter()
        .map(|&i| {
            let i = i as usize;
            let shift = p.bias_shift.as_ref().map_or(0.0, |b| b[i]);
            p.bias[i / p.plane] + shift - lo
        })
        .collect();
    quantize_bias(&float, s_acc, li)
}

/// The patch layer of `p` with these integer weights, biases, multiplier and table.
fn patch_layer(
    p: &PatchStage,
    weights: Vec<i8>,
    bias: Vec<i64>,
    multiplier: u32,
    table: Option<Vec<i64>>,
) -> QuantizedDense {
    QuantizedDense {
        n_in: p.planes * p.plane,
        n_out: p.out_channels * p.plane,
        weights,
        bias,
        multiplier: Some(multiplier),
        groups: 1,
        conv: None,
        patch: Some(PatchGeometry {
            planes: p.planes,
            plane: p.plane,
            out_channels: p.out_channels,
            out_order: p.order.clone(),
            pooled: p.pooled,
            linear: p.linear,
        }),
        table,
    }
}

/// A block-diagonal identity-multiplier layer repeating `pattern` (4 inputs per group).
fn tile(pattern: &[i8], n_in: usize, n_out: usize) -> QuantizedDense {
    QuantizedDense {
        n_in,
        n_out,
        weights: pattern.repeat(n_in / 4),
        bias: vec![0; n_out],
        multiplier: Some(IDENTITY),
        groups: n_in / 4,
        conv: None,
        patch: None,
        table: None,
    }
}

pub(crate) fn fidelity(
    graph: &Graph,
    model: &QuantizedModel,
    data: &[Vec<f32>],
) -> Result<FidelityReport> {
    fidelity_against(model, data, |x| {
        Ok(graph.run_f32(x)?.into_iter().map(f64::from).collect())
    })
}
