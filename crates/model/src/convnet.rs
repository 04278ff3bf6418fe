//! Lowering of small convolutional networks to the integer layers the proof checks.
//!
//! A chain `Conv → Relu/Clip(0, 6) → [MaxPool 2×2 | AveragePool k×k | GlobalAveragePool] → … →
//! Flatten → Gemm (→ Relu → Gemm …)` (BatchNormalization already folded by the importer) becomes:
//! - **Conv / Gemm**: a dense layer. A convolution is its Toeplitz matrix, so its weight cells grow
//!   with `inputs × outputs`, not with the multiply-accumulates (fine for digit-sized inputs; a
//!   weight-sharing convolution unit is future work).
//! - **MaxPool 2×2, stride 2**, exactly, with two block-diagonal layers (one group per window, the
//!   identity multiplier `2^16`): `[a, b, c, d] ↦ [relu(a−b), b, relu(c−d), d] ↦
//!   [relu(max(a,b) − max(c,d)), max(c,d)]`. The window maximum is the sum of the last pair, so the
//!   next dense layer reads both with the same weight. The previous layer's outputs are reordered
//!   so every window is four consecutive activations.
//! - **AveragePool k×k, stride k** (`k²` a power of two) and **GlobalAveragePool** (`H·W` a power of
//!   two): one block-diagonal layer of ones with `M = 2^16 / k²`, i.e. `round_half_up(sum / k²)`.
//! - **Relu** is the activations' clamp; **Clip(0, 6)** sets the activation scale so that 255 is 6.
//!
//! Refused with a reason: residual `Add`, `LeakyRelu` (negative outputs do not fit the u8
//! activations), pools with padding or other shapes, a non-folded BatchNormalization.

use crate::dense::{add_bias, dense_from_weight};
use crate::error::{ModelError, Result};
use crate::fidelity::{fidelity_against, FidelityReport};
use crate::graph::{Graph, Node, Op, Operand, Tensor};
use crate::quant::{QuantizedDense, QuantizedModel, BIAS_LIMIT, DEFAULT_INPUT_RANGE};
use crate::InputEncoding;

/// Widest activation vector the lowering builds (the proof's layer-width limit, 2^14).
pub const MAX_ACTIVATIONS: usize = 1 << 14;

/// Largest dense layer (weights) a convolution or Gemm may lower to.
pub const MAX_DENSE_CELLS: usize = 1 << 24;

/// The identity multiplier (`t = acc`).
const IDENTITY: u32 = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    None,
    Relu,
    Relu6,
}

#[derive(Debug, Clone)]
struct Affine {
    n_in: usize,
    n_out: usize,
    /// Row-major `[n_out][n_in]`, in our activation order.
    w: Vec<f64>,
    b: Vec<f64>,
    act: Act,
}

#[derive(Debug, Clone)]
enum Stage {
    Affine(Affine),
    /// Exact 2×2 max pooling over `windows` groups of four.
    MaxPool {
        windows: usize,
    },
    /// Average of `size` consecutive activations, `windows` times.
    AvgPool {
        windows: usize,
        size: usize,
    },
}

fn unsupported(node: &Node, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason: reason.into(),
    }
}

/// The lowered float network and how the current activations map to the ONNX tensor.
struct Builder {
    stages: Vec<Stage>,
    /// `[C, H, W]` of the current ONNX tensor (`[n, 1, 1]` once flat).
    shape: [usize; 3],
    /// ONNX flat index → our activation indices whose sum is its value.
    parts: Vec<Vec<usize>>,
    width: usize,
}

impl Builder {
    /// A dense layer `y_o = Σ_i W[o][i]·v_i + b_o` over the current ONNX values `v`.
    fn dense(
        &mut self,
        node: &Node,
        n_out: usize,
        w: impl Fn(usize, usize) -> f64,
        b: Vec<f64>,
    ) -> Result<()> {
        let n_in = self.width;
        if n_out > MAX_ACTIVATIONS
            || n_out
                .checked_mul(n_in)
                .is_none_or(|cells| cells > MAX_DENSE_CELLS)
        {
            return Err(unsupported(
                node,
                format!(
                    "as a dense layer it would hold {n_in} × {n_out} weights (limit {MAX_DENSE_CELLS})"
                ),
            ));
        }
        let mut m = vec![0f64; n_out * n_in];
        for o in 0..n_out {
            for (i, parts) in self.parts.iter().enumerate() {
                let v = w(o, i);
                if v != 0.0 {
                    for &k in parts {
                        m[o * n_in + k] += v;
                    }
                }
            }
        }
        self.stages.push(Stage::Affine(Affine {
            n_in,
            n_out,
            w: m,
            b,
            act: Act::None,
        }));
        self.parts = (0..n_out).map(|o| vec![o]).collect();
        self.width = n_out;
        Ok(())
    }

    /// Reorders the last dense layer's outputs so that `windows[w]` (ONNX indices) are
    /// consecutive, window after window.
    fn group_outputs(&mut self, node: &Node, windows: &[Vec<usize>]) -> Result<()> {
        let Some(Stage::Affine(a)) = self.stages.last_mut() else {
            return Err(unsupported(
                node,
                "pooling must follow a Conv/Gemm and its activation",
            ));
        };
        if a.act == Act::None || self.parts.iter().any(|p| p.len() != 1) {
            return Err(unsupported(node, "pooling must follow Relu or Clip(0, 6)"));
        }
        let order: Vec<usize> = windows
            .iter()
            .flatten()
            .map(|&i| self.parts[i][0])
            .collect();
        let n_in = a.n_in;
        a.w = order
            .iter()
            .flat_map(|&r| a.w[r * n_in..(r + 1) * n_in].to_vec())
            .collect();
        a.b = order.iter().map(|&r| a.b[r]).collect();
        a.n_out = order.len();
        self.width = order.len();
        Ok(())
    }
}

/// Lowers the CNN of `graph`, if it has a `Conv`; `Ok(None)` for other graphs.
///
/// # Errors
/// [`ModelError::Unsupported`] naming the op for what the lowering cannot express, shape errors,
/// and errors of the float model on calibration samples.
pub fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    if !graph.nodes.iter().any(|n| matches!(n.op, Op::Conv { .. })) {
        return Ok(None);
    }
    let stages = float_stages(graph)?;
    let samples = calibration.filter(|c| !c.is_empty());
    let model = quantize(graph, &stages, samples)?;
    let report = samples.map(|s| fidelity(graph, &model, s)).transpose()?;
    Ok(Some((model, report)))
}

fn float_stages(graph: &Graph) -> Result<Vec<Stage>> {
    let dims = &graph.input_shape;
    let shape = match dims.as_slice() {
        [1, c, h, w] => [*c, *h, *w],
        _ => {
            return Err(ModelError::InvalidGraph(format!(
                "a convolutional model needs an input of shape [1, C, H, W], not {dims:?}"
            )))
        }
    };
    let width: usize = shape.iter().product();
    if width > MAX_ACTIVATIONS {
        return Err(ModelError::TooLarge {
            what: "convolutional input (values)",
            limit: MAX_ACTIVATIONS as u64,
            got: width as u64,
        });
    }
    let mut b = Builder {
        stages: Vec::new(),
        shape,
        parts: (0..width).map(|i| vec![i]).collect(),
        width,
    };
    let mut current = 0usize;
    for (k, node) in graph.nodes.iter().enumerate().take(graph.logits) {
        let consts: Vec<&Tensor> = node
            .inputs
            .iter()
            .filter_map(|o| match *o {
                Operand::Const(c) => graph.constants.get(c),
                Operand::Value(_) => None,
            })
            .collect();
        let reads: Vec<usize> = node
            .inputs
            .iter()
            .filter_map(|o| match *o {
                Operand::Value(v) => Some(v),
                Operand::Const(_) => None,
            })
            .collect();
        if reads != [current] {
            return Err(unsupported(
                node,
                "only a single chain is supported (no residual Add or branches yet)",
            ));
        }
        let [c, h, w] = b.shape;
        match &node.op {
            Op::Identity | Op::Flatten { .. } | Op::Reshape { .. } => {
                b.shape = [c * h * w, 1, 1];
            }
            Op::Conv { strides, pads } => {
                let wt = consts
                    .first()
                    .ok_or_else(|| unsupported(node, "constant weight"))?;
                let [m, wc, kh, kw] = match wt.shape.as_slice() {
                    [m, wc, kh, kw] => [*m, *wc, *kh, *kw],
                    _ => return Err(unsupported(node, "4-D weight expected")),
                };
                if wc != c {
                    return Err(unsupported(node, "weight channels differ from the input"));
                }
                let [pt, pl, pb, pr] = *pads;
                let ho = (h + pt + pb).checked_sub(kh).map(|d| d / strides[0] + 1);
                let wo = (w + pl + pr).checked_sub(kw).map(|d| d / strides[1] + 1);
                let (Some(ho), Some(wo)) = (ho, wo) else {
                    return Err(unsupported(node, "kernel larger than the padded input"));
                };
                let bias: Vec<f64> = (0..m * ho * wo)
                    .map(|o| {
                        consts
                            .get(1)
                            .and_then(|t| t.data.get(o / (ho * wo)))
                            .map_or(0.0, |&v| f64::from(v))
                    })
                    .collect();
                let weight = |o: usize, i: usize| -> f64 {
                    let (om, oy, ox) = (o / (ho * wo), (o / wo) % ho, o % wo);
                    let (ic, iy, ix) = (i / (h * w), (i / w) % h, i % w);
                    let ky = (iy + pt).checked_sub(oy * strides[0]);
                    let kx = (ix + pl).checked_sub(ox * strides[1]);
                    match (ky, kx) {
                        (Some(ky), Some(kx)) if ky < kh && kx < kw => {
                            f64::from(wt.data[((om * wc + ic) * kh + ky) * kw + kx])
                        }
                        _ => 0.0,
                    }
                };
                b.dense(node, m * ho * wo, weight, bias)?;
                b.shape = [m, ho, wo];
            }
            Op::Gemm {
                alpha,
                beta,
                trans_a,
                trans_b,
            } => {
                if *trans_a {
                    return Err(unsupported(node, "only Gemm(x, W, b) with transA = 0"));
                }
                let wt = consts
                    .first()
                    .ok_or_else(|| unsupported(node, "constant B"))?;
                // the MLP lowering's reading of B and C (transpose, alpha, beta, broadcasting)
                let mut layer = dense_from_weight(node, wt, *trans_b, c * h * w, *alpha)?;
                if let Some(bias) = consts.get(1) {
                    add_bias(node, &mut layer, bias, *beta)?;
                }
                let (n_in, n_out) = (layer.n_in, layer.n_out);
                let weight = |o: usize, i: usize| f64::from(layer.weights[o * n_in + i]);
                let bias = layer.bias.iter().map(|&v| f64::from(v)).collect();
                b.dense(node, n_out, weight, bias)?;
                b.shape = [n_out, 1, 1];
            }
            Op::Relu | Op::Clip { .. } => {
                let act = match node.op {
                    Op::Relu => Act::Relu,
                    Op::Clip {
                        min: Some(lo),
                        max: Some(hi),
                    } if lo == 0.0 && hi == 6.0 => Act::Relu6,
                    _ => return Err(unsupported(node, "only Clip(0, 6) (ReLU6) is supported")),
                };
                match b.stages.last_mut() {
                    Some(Stage::Affine(a)) if a.act == Act::None => a.act = act,
                    _ => return Err(unsupported(node, "an activation must follow a Conv/Gemm")),
                }
            }
            Op::MaxPool {
                kernel,
                strides,
                pads,
            } => {
                if *kernel != [2, 2] || *strides != [2, 2] || pads.iter().any(|&p| p > 0) {
                    return Err(unsupported(node, "only 2×2 max pooling with stride 2"));
                }
                let windows = windows(node, c, h, w, 2)?;
                b.group_outputs(node, &windows)?;
                b.stages.push(Stage::MaxPool {
                    windows: windows.len(),
                });
                b.parts = (0..windows.len()).map(|i| vec![2 * i, 2 * i + 1]).collect();
                b.width = 2 * windows.len();
                b.shape = [c, h / 2, w / 2];
            }
            Op::AveragePool {
                kernel,
                strides,
                pads,
                ..
            } => {
                let k = kernel[0];
                if kernel[1] != k || *strides != [k, k] || pads.iter().any(|&p| p > 0) {
                    return Err(unsupported(node, "only k×k average pooling with stride k"));
                }
                let windows = windows(node, c, h, w, k)?;
                pool(&mut b, node, &windows)?;
                b.shape = [c, h / k, w / k];
            }
            Op::GlobalAveragePool => {
                let windows: Vec<Vec<usize>> = (0..c)
                    .map(|ch| (ch * h * w..(ch + 1) * h * w).collect())
                    .collect();
                pool(&mut b, node, &windows)?;
                b.shape = [c, 1, 1];
            }
            Op::LeakyRelu { .. } => {
                return Err(unsupported(
                    node,
                    "its negative outputs do not fit the u8 activations the proof uses",
                ))
            }
            _ => return Err(unsupported(node, "not supported in a convolutional chain")),
        }
        current = k + 1;
    }
    match b.stages.last() {
        Some(Stage::Affine(a)) if a.act == Act::None => Ok(b.stages),
        _ => Err(ModelError::InvalidGraph(
            "a convolutional model must end in a Gemm without activation (the logits)".into(),
        )),
    }
}

/// ONNX indices of every non-overlapping `k×k` window, channel by channel, row by row.
fn windows(node: &Node, c: usize, h: usize, w: usize, k: usize) -> Result<Vec<Vec<usize>>> {
    if k == 0 || !h.is_multiple_of(k) || !w.is_multiple_of(k) {
        return Err(unsupported(node, "the input must split into whole windows"));
    }
    let mut out = Vec::new();
    for ch in 0..c {
        for wy in 0..h / k {
            for wx in 0..w / k {
                out.push(
                    (0..k * k)
                        .map(|d| ch * h * w + (wy * k + d / k) * w + wx * k + d % k)
                        .collect(),
                );
            }
        }
    }
    Ok(out)
}

fn pool(b: &mut Builder, node: &Node, windows: &[Vec<usize>]) -> Result<()> {
    let size = windows.first().map_or(0, Vec::len);
    if !size.is_power_of_two() || size > 1 << 16 {
        return Err(unsupported(
            node,
            "the pooling window must hold a power of two values",
        ));
    }
    b.group_outputs(node, windows)?;
    b.stages.push(Stage::AvgPool {
        windows: windows.len(),
        size,
    });
    b.parts = (0..windows.len()).map(|i| vec![i]).collect();
    b.width = windows.len();
    Ok(())
}

/// Runs the float stages (exact max pooling), returning the activations after every stage.
fn forward(stages: &[Stage], x: &[f64]) -> Vec<Vec<f64>> {
    let mut a = x.to_vec();
    let mut out = Vec::new();
    for s in stages {
        a = match s {
            Stage::Affine(l) => (0..l.n_out)
                .map(|o| {
                    let v = l.b[o]
                        + l.w[o * l.n_in..(o + 1) * l.n_in]
                            .iter()
                            .zip(&a)
                            .map(|(w, x)| w * x)
                            .sum::<f64>();
                    match l.act {
                        Act::None => v,
                        Act::Relu => v.max(0.0),
                        Act::Relu6 => v.clamp(0.0, 6.0),
                    }
                })
                .collect(),
            Stage::MaxPool { .. } => a
                .chunks(4)
                .flat_map(|q| {
                    let (m1, m2) = (q[0].max(q[1]), q[2].max(q[3]));
                    [(m1 - m2).max(0.0), m2]
                })
                .collect(),
            Stage::AvgPool { size, .. } => a
                .chunks(*size)
                .map(|q| q.iter().sum::<f64>() / *size as f64)
                .collect(),
        };
        out.push(a.clone());
    }
    out
}

fn quantize(
    graph: &Graph,
    stages: &[Stage],
    samples: Option<&[Vec<f32>]>,
) -> Result<QuantizedModel> {
    // calibration: input range and the largest activation after every dense stage
    let mut x_max = 0f64;
    let mut act_max = vec![0f64; stages.len()];
    for s in samples.unwrap_or_default() {
        if s.len() != graph.input_len || s.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "calibration sample".into(),
            });
        }
        let x: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
        x_max = x.iter().fold(x_max, |m, v| m.max(v.abs()));
        for (m, a) in act_max.iter_mut().zip(forward(stages, &x)) {
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
    let mut output_scale = 1.0;
    let last = stages.len() - 1;
    for (si, stage) in stages.iter().enumerate() {
        let li = layers.len();
        match stage {
            Stage::Affine(a) => {
                let w_max = a.w.iter().fold(0f64, |m, v| m.max(v.abs()));
                let s_w = if w_max > 0.0 { w_max / 127.0 } else { 1.0 };
                let weights =
                    a.w.iter()
                        .map(|v| (v / s_w).round().clamp(-127.0, 127.0) as i8)
                        .collect();
                let bias =
                    a.b.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let q = (v / (s * s_w)).round();
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
                        .collect::<Result<Vec<_>>>()?;
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
                });
            }
            Stage::MaxPool { windows } => {
                let w = *windows;
                let p1: [i8; 16] = [1, -1, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1, 0, 0, 0, 1];
                let p2: [i8; 8] = [1, 1, -1, -1, 0, 0, 1, 1];
                for (pattern, outs) in [(&p1[..], 4), (&p2[..], 2)] {
                    layers.push(QuantizedDense {
                        n_in: 4 * w,
                        n_out: outs * w,
                        weights: pattern.repeat(w),
                        bias: vec![0; outs * w],
                        multiplier: Some(IDENTITY),
                        groups: w,
                    });
                }
            }
            Stage::AvgPool { windows, size } => {
                layers.push(QuantizedDense {
                    n_in: windows * size,
                    n_out: *windows,
                    weights: vec![1; windows * size],
                    bias: vec![0; *windows],
                    multiplier: Some(IDENTITY / *size as u32),
                    groups: *windows,
                });
            }
        }
    }
    let model = QuantizedModel {
        name: graph.name.clone(),
        input_len: graph.input_len,
        input_scale,
        input_encoding: InputEncoding::Symmetric,
        layers,
        output_scale,
        classifier: graph.classifier,
    };
    model.validate()?;
    Ok(model)
}

fn fidelity(graph: &Graph, model: &QuantizedModel, data: &[Vec<f32>]) -> Result<FidelityReport> {
    fidelity_against(model, data, |x| {
        Ok(graph.run_f32(x)?.into_iter().map(f64::from).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(input_shape: Vec<usize>, nodes: Vec<Node>, constants: Vec<Tensor>) -> Graph {
        let input_len = input_shape.iter().product();
        let n = nodes.len();
        Graph {
            name: "t".into(),
            input_name: "x".into(),
            input_shape,
            input_len,
            constants,
            nodes,
            output_name: "y".into(),
            output: n,
            logits: n,
            classifier: false,
        }
    }

    fn conv(weight: usize) -> Node {
        Node {
            name: "c".into(),
            op_type: "Conv".into(),
            op: Op::Conv {
                strides: [1, 1],
                pads: [1, 1, 1, 1],
            },
            inputs: vec![Operand::Value(0), Operand::Const(weight)],
        }
    }

    #[test]
    fn oversized_convolutions_are_refused_before_allocating() {
        let w = Tensor::new(vec![8, 1, 3, 3], vec![0.5; 72]).unwrap();
        // 256×256 input: 65,536 values, beyond the proof's layer width
        let g = graph(vec![1, 1, 256, 256], vec![conv(0)], vec![w.clone()]);
        assert!(matches!(
            lower_graph(&g, None),
            Err(ModelError::TooLarge { .. })
        ));
        // 64×64 input fits, but 8 output channels make 32,768 outputs
        let g = graph(vec![1, 1, 64, 64], vec![conv(0)], vec![w]);
        assert!(matches!(
            lower_graph(&g, None),
            Err(ModelError::Unsupported { .. })
        ));
    }
}
