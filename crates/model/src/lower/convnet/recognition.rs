//! Recognition: walks the graph node by node, checks that it is a chain the lowering can express
//! (refusing anything else with a reason naming the node), and builds the float stages.

use glassbox_air::ConvDims;

use crate::error::{ModelError, Result};
use crate::exec::conv::output_dim;
use crate::ir::graph::{Graph, Op, Operand, Tensor};
use crate::lower::convnet::builder::{input_copies, Builder};
use crate::lower::convnet::stages::{unsupported, Act, Skip, Stage, MAX_ACTIVATIONS};
use crate::lower::convnet::windows::{pad_windows, pool, windows};
use crate::lower::dense_layer::{add_bias, dense_from_weight};
use crate::lower::smooth::scalar::ScalarFn;
use crate::quant::model::ConvGeometry;

pub(crate) fn float_stages(graph: &Graph) -> Result<Vec<Stage>> {
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
    // the last node that reads each value (residual skips are read again further on)
    let mut last_reader = vec![0usize; graph.nodes.len() + 1];
    for (k, node) in graph.nodes.iter().enumerate().take(graph.logits) {
        for o in &node.inputs {
            if let Operand::Value(v) = *o {
                if let Some(r) = last_reader.get_mut(v) {
                    *r = k;
                }
            }
        }
    }
    let mut b = Builder {
        stages: Vec::new(),
        shape,
        parts: (0..width).map(|i| vec![(i, 1.0)]).collect(),
        width,
        skips: Vec::new(),
        node: 0,
        offset: None,
    };
    if last_reader[0] > 0 {
        // the model input is signed
        b.skips
            .push(Skip::new(0, last_reader[0], true, b.parts.clone()));
    }
    let mut current = 0usize;
    let mut skip_to = 0usize;
    for (k, node) in graph.nodes.iter().enumerate().take(graph.logits) {
        if k < skip_to {
            continue;
        }
        if let Some(end) = smooth_activation(graph, &mut b, k, current, &last_reader)? {
            (current, skip_to) = (end, end);
            continue;
        }
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
        b.node = k;
        let skip = match (&node.op, reads.as_slice()) {
            (_, [r]) if *r == current => None,
            (Op::Add, [x, y]) if *x == current && *y != current => Some(*y),
            (Op::Add, [x, y]) if *y == current && *x != current => Some(*x),
            _ => {
                return Err(unsupported(
                    node,
                    "only a chain with identity skip connections (Add of an earlier value) is \
                     supported",
                ))
            }
        };
        let [c, h, w] = b.shape;
        let pools = matches!(
            node.op,
            Op::MaxPool { .. } | Op::AveragePool { .. } | Op::GlobalAveragePool
        );
        if pools {
            // the pools' layers clamp at 0: a signed smooth activation before them is shifted
            b.shift_smooth(c * h * w)?;
        }
        let passes = pools
            || matches!(
                node.op,
                Op::Conv { .. }
                    | Op::Gemm { .. }
                    | Op::Identity
                    | Op::Flatten { .. }
                    | Op::Reshape { .. }
            );
        if b.offset.is_some() && !passes {
            return Err(unsupported(
                node,
                "after a pooled smooth activation, only pools, Flatten and a Conv/Gemm",
            ));
        }
        match &node.op {
            Op::Add => match skip {
                Some(value) => b.add(node, value)?,
                None => {
                    return Err(unsupported(
                        node,
                        "only an Add of two runtime values (a skip)",
                    ))
                }
            },
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
                let ho = output_dim(h, kh, strides[0], pt, pb);
                let wo = output_dim(w, kw, strides[1], pl, pr);
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
                let copies = input_copies(&b.parts, b.width);
                b.dense(node, m * ho * wo, weight, bias)?;
                b.shape = [m, ho, wo];
                let Some(Stage::Affine(a)) = b.stages.last_mut() else {
                    unreachable!("dense pushed an affine stage");
                };
                // a stride-1 convolution without carried skip rows is a stencil
                if let (Some(copies), [1, 1], true) = (copies, strides, a.n_out == m * ho * wo) {
                    a.conv = Some(ConvGeometry {
                        dims: ConvDims {
                            channels: c,
                            height: h,
                            width: w,
                            copies,
                            out_channels: m,
                            out_height: ho,
                            out_width: wo,
                            kernel_h: kh,
                            kernel_w: kw,
                            pad_top: pt,
                            pad_left: pl,
                        },
                        out_order: (0..(m * ho * wo) as u32).collect(),
                    });
                }
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
                if act == Act::Relu6 && b.carries() {
                    return Err(unsupported(
                        node,
                        "Clip(0, 6) on a layer that carries a skip",
                    ));
                }
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
                let (mut windows, ho, wo) = windows(node, [c, h, w], *kernel, *strides, *pads)?;
                b.pool_offset(node, &windows, None)?;
                let size = windows.iter().map(Vec::len).max().unwrap_or(1);
                let size = size.next_power_of_two().max(4);
                pad_windows(&mut windows, size);
                b.group_outputs(node, &windows)?;
                b.stages.push(Stage::MaxPool {
                    windows: windows.len(),
                    size,
                });
                b.parts = (0..windows.len())
                    .map(|i| vec![(2 * i, 1.0), (2 * i + 1, 1.0)])
                    .collect();
                b.width = 2 * windows.len();
                b.shape = [c, ho, wo];
            }
            Op::AveragePool {
                kernel,
                strides,
                pads,
                count_include_pad,
            } => {
                let (windows, ho, wo) = windows(node, [c, h, w], *kernel, *strides, *pads)?;
                let divisor = if *count_include_pad {
                    kernel[0] * kernel[1]
                } else {
                    let size = windows[0].len();
                    if windows.iter().any(|w| w.len() != size) {
                        return Err(unsupported(
                            node,
                            "count_include_pad = 0 with windows cut by the padding (one divisor \
                             per layer)",
                        ));
                    }
                    size
                };
                pool(&mut b, node, windows, divisor)?;
                b.shape = [c, ho, wo];
            }
            Op::GlobalAveragePool => {
                let windows: Vec<Vec<usize>> = (0..c)
                    .map(|ch| (ch * h * w..(ch + 1) * h * w).collect())
                    .collect();
                pool(&mut b, node, windows, h * w)?;
                b.shape = [c, 1, 1];
            }
            Op::LeakyRelu { alpha } => b.leaky_relu(node, f64::from(*alpha))?,
            _ => return Err(unsupported(node, "not supported in a convolutional chain")),
        }
        current = k + 1;
        if last_reader[current] > k + 1 {
            if b.offset.is_some() {
                return Err(unsupported(
                    node,
                    "a skip connection from a pooled smooth activation",
                ));
            }
            if matches!(b.stages.last(), Some(Stage::Affine(a)) if a.act == Act::None) {
                return Err(unsupported(
                    node,
                    "a skip connection must start after an activation",
                ));
            }
            let signed = b.parts.iter().flatten().any(|&(_, c)| c < 0.0);
            let skip = Skip::new(current, last_reader[current], signed, b.parts.clone());
            b.skips.push(skip);
        }
    }
    if b.carries() {
        return Err(ModelError::InvalidGraph(
            "a skip connection is read after the logits".into(),
        ));
    }
    match b.stages.last() {
        Some(Stage::Affine(a)) if a.act == Act::None => Ok(b.stages),
        _ => Err(ModelError::InvalidGraph(
            "a convolutional model must end in a Gemm without activation (the logits)".into(),
        )),
    }
}

/// Reads a smooth activation (`Sigmoid`, `Tanh`, GELU, … as one scalar function) starting at node
/// `k` after a Conv/Gemm stage without activation, and gives that stage the function: its outputs
/// then pass through an activation table. Returns the index of the first node after it, or `None`
/// if node `k` begins no smooth activation.
///
/// # Errors
/// A smooth activation on the logits, on a stage that carries a skip, or whose output (or
/// input) a skip connection reads again.
fn smooth_activation(
    graph: &Graph,
    b: &mut Builder,
    k: usize,
    current: usize,
    last_reader: &[usize],
) -> Result<Option<usize>> {
    let node = &graph.nodes[k];
    let starts = matches!(node.op, Op::Unary(_) | Op::Mul | Op::Sub | Op::Div);
    let open = matches!(b.stages.last(), Some(Stage::Affine(a)) if a.act == Act::None);
    if !starts || !open {
        return Ok(None);
    }
    let Some((f, end)) = ScalarFn::region(graph, k, current)? else {
        return Ok(None);
    };
    if end >= graph.logits {
        return Err(unsupported(
            node,
            "an activation on the output layer (its outputs are the logits)",
        ));
    }
    // value `end` is read next by node `end`; a later reader, or one of the pre-activations
    // after the function, is a skip
    let reread = last_reader.get(end).is_some_and(|&r| r > end)
        || last_reader.get(current).is_some_and(|&r| r >= end);
    if b.carries() || reread {
        return Err(unsupported(
            node,
            "a smooth activation inside a residual block (a skip would pass through its table)",
        ));
    }
    if let Some(Stage::Affine(a)) = b.stages.last_mut() {
        a.act = Act::Smooth;
        a.smooth = Some(f);
    }
    Ok(Some(end))
}
