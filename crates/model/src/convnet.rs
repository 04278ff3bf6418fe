//! Lowering of small convolutional networks to the integer layers the proof checks.
//!
//! A chain `Conv → Relu/Clip(0, 6)/LeakyRelu → [MaxPool 2×2 | AveragePool k×k | GlobalAveragePool]
//! → … → Flatten → Gemm (→ activation → Gemm …)`, with identity skip connections (`Add` of an
//! earlier value; BatchNormalization already folded by the importer), becomes:
//! - **Conv / Gemm**: a dense layer. A convolution's matrix is its Toeplitz matrix; a stride-1
//!   convolution also records its geometry ([`ConvGeometry`]: shape, and its output order once a
//!   pool permutes its rows) as long as its rows are exactly that convolution, so that the prover
//!   may store it as a stencil layer, whose weight cells grow with the multiply-accumulates rather
//!   than with `inputs × outputs`.
//! - **MaxPool** (any kernel, stride and padding), exactly. Every window becomes `S` consecutive
//!   activations (`S` a power of two ≥ 4): the previous layer's output rows are reordered, repeated
//!   where windows overlap, and a window short of `S` (cut by padding, or 9 for 3×3) repeats its
//!   first value, which leaves the maximum unchanged. Then block-diagonal layers at the identity
//!   multiplier `2^16` run a tournament: `[a, b, c, d] ↦ [relu(a−b), b, relu(c−d), d]`, then
//!   `[u1, v1, u2, v2] ↦ [relu(u1 + v1 − u2 − v2), u2 + v2]` until one pair per window is left. The
//!   window maximum is the sum of that pair, so the next dense layer reads both with one weight.
//! - **AveragePool** (any kernel, stride and padding) and **GlobalAveragePool**: one block-diagonal
//!   layer of ones (zeros on the repeats that pad short windows) with `M = round(2^16 / d)` for the
//!   divisor `d` (`k_h·k_w` if `count_include_pad`, else the window size, which must then be the
//!   same for every window). The result is `floor((Σ·M + 2^15) / 2^16)`: exactly `Σ / d` rounded
//!   half up when `d` is a power of two; otherwise it rounds `Σ / d + e` with
//!   `|e| = Σ·|M·d − 2^16| / (2^16·d) ≤ 255·|M·d − 2^16| / 2^16` for u8 values (at most 0.008 for
//!   `d = 9`, 0.09 for `d = 49`), so it differs only near a rounding boundary.
//! - **Relu** is the activations' clamp; **Clip(0, 6)** sets the activation scale so that 255 is 6.
//! - **LeakyRelu(α)** after a Conv/Gemm `z`: the layer also outputs `−z`, both are ReLU'd, and the
//!   next layer reads `relu(z) − α·relu(−z)` (α folded into its weights before quantization).
//! - **Add** of the current value and an earlier one `s` (a residual skip): every layer between
//!   them gets extra rows that carry `s` (`relu(λ·s)`, and `relu(−λ·s)` too if `s` may be negative,
//!   with `λ` scaling the rows to the layer's largest weight). If the Add follows a Conv/Gemm
//!   before its activation (`Conv → Add → Relu`), `s` is folded into that layer's weights, so the
//!   activation applies to the sum, and the carrying rows end there.
//!
//! Every value is a weighted sum of the current activations ([`Parts`]), so pooling, LeakyRelu and
//! skips compose without extra layers. Refused with a reason: branches other than identity skips,
//! pooling inside a residual block, a Conv/Gemm without activation feeding another layer, an
//! average pool that would need a divisor per window, and a non-folded BatchNormalization.

use crate::conv::{output_dim, tap};
use crate::dense::{add_bias, dense_from_weight};
use crate::error::{ModelError, Result};
use crate::fidelity::{fidelity_against, FidelityReport};
use crate::graph::{Graph, Node, Op, Operand, Tensor};
use crate::quant::{
    is_permutation, ConvGeometry, QuantizedDense, QuantizedModel, BIAS_LIMIT, DEFAULT_INPUT_RANGE,
};
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
    /// The convolution this stage computes, while its rows are exactly that (no carried skip,
    /// no folded skip, at most a permutation of its outputs).
    conv: Option<ConvGeometry>,
}

#[derive(Debug, Clone)]
enum Stage {
    Affine(Affine),
    /// Exact max pooling over `windows` groups of `size` (a power of two, at least 4)
    /// consecutive activations.
    MaxPool {
        windows: usize,
        size: usize,
    },
    /// `Σ mask·x / divisor` over `windows` groups of `size` consecutive activations (`mask` is 1,
    /// or 0 on the repeats that pad a short window).
    AvgPool {
        size: usize,
        divisor: usize,
        mask: Vec<f64>,
    },
}

fn unsupported(node: &Node, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason: reason.into(),
    }
}

/// A value in terms of the current activations: per ONNX flat index, `Σ coeff · a_k`.
type Parts = Vec<Vec<(usize, f64)>>;

/// A value read again further on (a residual skip), carried through the layers in between.
#[derive(Debug, Clone)]
struct Skip {
    /// Its value id.
    value: usize,
    /// The last node that reads it.
    last_reader: usize,
    /// True if it may be negative (then it is carried as `relu(v)` and `relu(−v)`).
    signed: bool,
    /// Its value in terms of the current activations.
    parts: Parts,
    /// Its value in terms of the last stage's inputs (to fold an `Add` into that stage).
    before_last: Option<Parts>,
    /// Rows of the last stage that carry it.
    rows: core::ops::Range<usize>,
    /// Rows of the stage before the last that carry it (empty if none).
    prev_rows: core::ops::Range<usize>,
}

impl Skip {
    /// A skip on `value`, read last by node `last_reader`, currently equal to `parts`.
    fn new(value: usize, last_reader: usize, signed: bool, parts: Parts) -> Self {
        Self {
            value,
            last_reader,
            signed,
            parts,
            before_last: None,
            rows: 0..0,
            prev_rows: 0..0,
        }
    }
}

/// The lowered float network and how the current activations map to the ONNX tensor.
struct Builder {
    stages: Vec<Stage>,
    /// `[C, H, W]` of the current ONNX tensor (`[n, 1, 1]` once flat).
    shape: [usize; 3],
    /// The current ONNX tensor in terms of our activations.
    parts: Parts,
    width: usize,
    /// Values that later nodes read again, carried alongside.
    skips: Vec<Skip>,
    /// Index of the node being lowered.
    node: usize,
}

impl Builder {
    /// A dense layer `y_o = Σ_i W[o][i]·v_i + b_o` over the current ONNX values `v`, followed by
    /// rows that carry every skip still read after this node.
    fn dense(
        &mut self,
        node: &Node,
        n_out: usize,
        w: impl Fn(usize, usize) -> f64,
        b: Vec<f64>,
    ) -> Result<()> {
        if let Some(Stage::Affine(a)) = self.stages.last() {
            if a.act == Act::None {
                return Err(unsupported(
                    node,
                    "a Conv/Gemm without an activation may only be followed by Add, LeakyRelu or \
                     nothing (the logits)",
                ));
            }
        }
        let at = self.node;
        self.skips.retain(|s| s.last_reader > at);
        let carried: usize = self
            .skips
            .iter()
            .map(|s| s.parts.len() * if s.signed { 2 } else { 1 })
            .sum();
        let n_in = self.width;
        let rows = n_out.saturating_add(carried);
        if rows > MAX_ACTIVATIONS
            || rows
                .checked_mul(n_in)
                .is_none_or(|cells| cells > MAX_DENSE_CELLS)
        {
            return Err(unsupported(
                node,
                format!(
                    "as a dense layer it would hold {n_in} × {rows} weights (limits \
                     {MAX_DENSE_CELLS} weights, {MAX_ACTIVATIONS} outputs)"
                ),
            ));
        }
        let mut m = vec![0f64; n_out * n_in];
        for o in 0..n_out {
            for (i, parts) in self.parts.iter().enumerate() {
                let v = w(o, i);
                if v != 0.0 {
                    for &(k, c) in parts {
                        m[o * n_in + k] += v * c;
                    }
                }
            }
        }
        // Carrying rows are scaled to the layer's largest weight so they quantize to ±127.
        let w_max = m.iter().fold(0f64, |acc, v| acc.max(v.abs()));
        let target = if w_max > 0.0 { w_max } else { 1.0 };
        let mut bias = b;
        let mut row = n_out;
        for skip in &mut self.skips {
            let q_max = skip
                .parts
                .iter()
                .flatten()
                .fold(0f64, |acc, &(_, c)| acc.max(c.abs()));
            let lambda = if q_max > 0.0 { target / q_max } else { 1.0 };
            let signs: &[f64] = if skip.signed { &[1.0, -1.0] } else { &[1.0] };
            let start = row;
            let mut carried_parts = vec![Vec::new(); skip.parts.len()];
            for (e, p) in skip.parts.iter().enumerate() {
                for &sign in signs {
                    let mut r = vec![0f64; n_in];
                    for &(k, c) in p {
                        r[k] += sign * lambda * c;
                    }
                    m.extend_from_slice(&r);
                    bias.push(0.0);
                    carried_parts[e].push((row, sign / lambda));
                    row += 1;
                }
            }
            skip.before_last = Some(std::mem::replace(&mut skip.parts, carried_parts));
            skip.prev_rows = std::mem::replace(&mut skip.rows, start..row);
        }
        self.stages.push(Stage::Affine(Affine {
            n_in,
            n_out: row,
            w: m,
            b: bias,
            act: Act::None,
            conv: None,
        }));
        self.parts = (0..n_out).map(|o| vec![(o, 1.0)]).collect();
        self.width = row;
        Ok(())
    }

    /// True if the last stage carries skips (its activation must then be a plain ReLU).
    fn carries(&self) -> bool {
        self.skips.iter().any(|s| !s.rows.is_empty())
    }

    /// `Add` of the current value and the skip `value`: folded into the last stage's rows if it
    /// has no activation yet (the usual `Conv → Add → Relu`), else a sum of activations.
    fn add(&mut self, node: &Node, value: usize) -> Result<()> {
        let Some(si) = self.skips.iter().position(|s| s.value == value) else {
            return Err(unsupported(
                node,
                "it reads a value the lowering did not keep",
            ));
        };
        if self.skips[si].parts.len() != self.parts.len() {
            return Err(unsupported(
                node,
                "only an Add of two tensors of one shape (no broadcasting)",
            ));
        }
        let at = self.node;
        let pending = matches!(self.stages.last(), Some(Stage::Affine(a)) if a.act == Act::None);
        if !pending {
            let skip = &self.skips[si];
            for (p, q) in self.parts.iter_mut().zip(&skip.parts) {
                p.extend_from_slice(q);
            }
            return Ok(());
        }
        let Some(before) = self.skips[si].before_last.as_ref() else {
            return Err(unsupported(node, "the skip does not reach this layer"));
        };
        let mut rows = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            let &[(r, c)] = p.as_slice() else {
                return Err(unsupported(node, "an Add after pooling is not supported"));
            };
            rows.push((r, c));
        }
        let dies = self.skips[si].last_reader == at;
        let carried = self.skips[si].prev_rows.clone();
        let n = self.stages.len();
        let (head, tail) = self.stages.split_at_mut(n - 1);
        let Stage::Affine(a) = &mut tail[0] else {
            unreachable!("checked above");
        };
        let n_in = a.n_in;
        // The folded skip weights (`1/λ` of the carrying layer) may exceed this layer's own
        // weights and set its quantization scale. If the skip ends here and the previous layer
        // carried it, move a factor `g` into those carrying rows so both layers give up the same
        // share of their int8 range.
        let own = rows
            .iter()
            .flat_map(|&(r, _)| a.w[r * n_in..(r + 1) * n_in].iter())
            .fold(0f64, |m, v| m.max(v.abs()));
        let folded = rows
            .iter()
            .zip(before)
            .flat_map(|(&(_, c), q)| q.iter().map(move |&(_, v)| (v / c).abs()))
            .fold(0f64, f64::max);
        let mut g = 1.0;
        if let (true, Some(Stage::Affine(prev))) = (dies && !carried.is_empty(), head.last_mut()) {
            if own > 0.0 && folded > own {
                g = (folded / own).sqrt();
                let m = prev.n_in;
                prev.w[carried.start * m..carried.end * m]
                    .iter_mut()
                    .for_each(|v| *v *= g);
            }
        }
        for (&(r, c), q) in rows.iter().zip(before) {
            for &(k, v) in q {
                a.w[r * n_in + k] += v / (c * g);
            }
        }
        // the skip's weights lie off the convolution's stencil
        a.conv = None;
        if dies {
            let rows = self.skips.remove(si).rows;
            self.drop_rows(rows);
        }
        Ok(())
    }

    /// Removes `rows` of the last stage (a dead skip's carrying rows) and renumbers the rest.
    fn drop_rows(&mut self, rows: core::ops::Range<usize>) {
        let Some(Stage::Affine(a)) = self.stages.last_mut() else {
            return;
        };
        let n = rows.len();
        a.w.drain(rows.start * a.n_in..rows.end * a.n_in);
        a.b.drain(rows.clone());
        a.n_out -= n;
        self.width -= n;
        let shift = |k: &mut usize| {
            if *k >= rows.end {
                *k -= n;
            }
        };
        for skip in &mut self.skips {
            skip.parts.iter_mut().flatten().for_each(|(k, _)| shift(k));
            if skip.rows.start >= rows.end {
                skip.rows = skip.rows.start - n..skip.rows.end - n;
            }
        }
        self.parts.iter_mut().flatten().for_each(|(k, _)| shift(k));
    }

    /// `LeakyRelu(α)` after a Conv/Gemm: `relu(z) − α·relu(−z)`, with the negated rows appended.
    fn leaky_relu(&mut self, node: &Node, alpha: f64) -> Result<()> {
        let Some(Stage::Affine(a)) = self.stages.last_mut() else {
            return Err(unsupported(node, "LeakyRelu must follow a Conv/Gemm"));
        };
        if a.act != Act::None {
            return Err(unsupported(node, "LeakyRelu must follow a Conv/Gemm"));
        }
        let rows = a.n_out + self.parts.len();
        if rows > MAX_ACTIVATIONS
            || rows
                .checked_mul(a.n_in)
                .is_none_or(|cells| cells > MAX_DENSE_CELLS)
        {
            return Err(unsupported(
                node,
                "too many outputs or weights once split in two",
            ));
        }
        let n_in = a.n_in;
        if let Some(conv) = &mut a.conv {
            // the negated rows are channels O..2O, in the order of the first O
            let plane = (conv.out_channels * conv.out_height * conv.out_width) as u32;
            let negated: Vec<u32> = conv.out_order.iter().map(|&i| i + plane).collect();
            conv.out_order.extend(negated);
            conv.out_channels *= 2;
        }
        for p in &mut self.parts {
            let &[(r, c)] = p.as_slice() else {
                return Err(unsupported(node, "LeakyRelu must follow a Conv/Gemm"));
            };
            let neg: Vec<f64> = a.w[r * n_in..(r + 1) * n_in].iter().map(|v| -v).collect();
            a.w.extend_from_slice(&neg);
            a.b.push(-a.b[r]);
            p.push((a.n_out, -alpha * c));
            a.n_out += 1;
        }
        a.act = Act::Relu;
        self.width = a.n_out;
        Ok(())
    }

    /// Reorders the last dense layer's outputs so that `windows[w]` (ONNX indices) are
    /// consecutive, window after window.
    fn group_outputs(&mut self, node: &Node, windows: &[Vec<usize>]) -> Result<()> {
        let at = self.node;
        if self.skips.iter().any(|s| s.last_reader > at) {
            return Err(unsupported(
                node,
                "pooling inside a residual block is not supported",
            ));
        }
        let Some(Stage::Affine(a)) = self.stages.last_mut() else {
            return Err(unsupported(
                node,
                "pooling must follow a Conv/Gemm and its activation",
            ));
        };
        if a.act == Act::None || self.parts.iter().any(|p| !matches!(p[..], [(_, 1.0)])) {
            return Err(unsupported(node, "pooling must follow Relu or Clip(0, 6)"));
        }
        let order: Vec<usize> = windows
            .iter()
            .flatten()
            .map(|&i| self.parts[i][0].0)
            .collect();
        let n_in = a.n_in;
        // a permutation keeps a convolution one (its output order records it); repeats do not
        a.conv = a.conv.take().and_then(|mut conv| {
            is_permutation(order.iter().copied(), a.n_out).then(|| {
                conv.out_order = order.iter().map(|&r| conv.out_order[r]).collect();
                conv
            })
        });
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

/// How many activations make up each current ONNX value, if every value is one activation in
/// order (1) or the pair `2i, 2i + 1` a max pool leaves (2); `None` otherwise.
fn input_copies(parts: &Parts, width: usize) -> Option<usize> {
    let single = |i: usize, p: &Vec<(usize, f64)>| p.as_slice() == [(i, 1.0)];
    let pair = |i: usize, p: &Vec<(usize, f64)>| p.as_slice() == [(2 * i, 1.0), (2 * i + 1, 1.0)];
    if width == parts.len() && parts.iter().enumerate().all(|(i, p)| single(i, p)) {
        Some(1)
    } else if width == 2 * parts.len() && parts.iter().enumerate().all(|(i, p)| pair(i, p)) {
        Some(2)
    } else {
        None
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
    };
    if last_reader[0] > 0 {
        // the model input is signed
        b.skips
            .push(Skip::new(0, last_reader[0], true, b.parts.clone()));
    }
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

/// ONNX indices of the in-bounds cells of every pooling window, channel by channel, row by row,
/// with the output height and width (`ceil_mode = 0`; padded cells are left out).
fn windows(
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
fn pad_windows(windows: &mut [Vec<usize>], size: usize) -> Vec<f64> {
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
fn pool(b: &mut Builder, node: &Node, mut windows: Vec<Vec<usize>>, divisor: usize) -> Result<()> {
    let size = windows.iter().map(Vec::len).max().unwrap_or(0);
    if size == 0 || divisor == 0 || divisor > 1 << 16 {
        return Err(unsupported(
            node,
            "the pooling window must hold 1 to 65536 values",
        ));
    }
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
            Stage::MaxPool { size, .. } => a
                .chunks(*size)
                .flat_map(|q| {
                    let max = |h: &[f64]| h.iter().copied().fold(f64::MIN, f64::max);
                    let (m1, m2) = (max(&q[..size / 2]), max(&q[size / 2..]));
                    [(m1 - m2).max(0.0), m2]
                })
                .collect(),
            Stage::AvgPool {
                size,
                divisor,
                mask,
            } => a
                .chunks(*size)
                .zip(mask.chunks(*size))
                .map(|(q, m)| q.iter().zip(m).map(|(x, m)| x * m).sum::<f64>() / *divisor as f64)
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
                    conv: a.conv.clone(),
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
            } => {
                let windows = mask.len() / size;
                let multiplier = (f64::from(IDENTITY) / *divisor as f64).round().max(1.0);
                layers.push(QuantizedDense {
                    n_in: mask.len(),
                    n_out: windows,
                    weights: mask.iter().map(|&m| m as i8).collect(),
                    bias: vec![0; windows],
                    multiplier: Some(multiplier as u32),
                    groups: windows,
                    conv: None,
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
        proof_batch: None,
    };
    model.validate()?;
    Ok(model)
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
    }
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

    fn node(op: Op, inputs: &[Operand]) -> Node {
        Node {
            name: op.name().into(),
            op_type: op.name().into(),
            op,
            inputs: inputs.to_vec(),
        }
    }

    /// `Conv(3×3, pad 1)` of value `x` with weight and bias constants `w` and `w + 1`.
    fn conv_node(x: usize, w: usize) -> Node {
        let op = Op::Conv {
            strides: [1, 1],
            pads: [1, 1, 1, 1],
        };
        node(
            op,
            &[Operand::Value(x), Operand::Const(w), Operand::Const(w + 1)],
        )
    }

    /// `Gemm(x, W, b)` with `transB = 1`, `W` and `b` the constants `w` and `w + 1`.
    fn gemm_node(x: usize, w: usize) -> Node {
        let op = Op::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
        };
        node(
            op,
            &[Operand::Value(x), Operand::Const(w), Operand::Const(w + 1)],
        )
    }

    /// Seeded weights in `[-0.5, 0.5)`.
    fn tensor(shape: Vec<usize>, seed: u64) -> Tensor {
        let n = shape.iter().product();
        let mut x = seed;
        let data = (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        Tensor::new(shape, data).unwrap()
    }

    /// The lowered float stages must compute exactly what the graph computes.
    fn assert_stages_match(g: &Graph) {
        let stages = float_stages(g).unwrap();
        for seed in 0..5 {
            let x: Vec<f32> = tensor(vec![g.input_len], 100 + seed).data;
            let want = g.run_f32(&x).unwrap();
            let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let got = forward(&stages, &xs).pop().unwrap();
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                assert!((a - f64::from(*b)).abs() < 1e-4, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn skips_and_leaky_relu_lower_to_the_same_function() {
        use Operand::Value;
        let consts = vec![
            tensor(vec![2, 1, 3, 3], 1),
            tensor(vec![2], 2),
            tensor(vec![1, 2, 3, 3], 3),
            tensor(vec![1], 4),
            tensor(vec![3, 16], 5),
            tensor(vec![3], 6),
            tensor(vec![2, 3], 7),
            tensor(vec![2], 8),
        ];
        // x (signed) → Conv → Relu → Conv → Add(x) → Relu → [Add(v3)] → Flatten → Gemm →
        // LeakyRelu → Gemm: a skip carried through two layers as two ReLU halves, one folded
        // before an activation, one Add after an activation, and a LeakyRelu split.
        let nodes = vec![
            conv_node(0, 0),                      // v1
            node(Op::Relu, &[Value(1)]),          // v2
            conv_node(2, 2),                      // v3
            node(Op::Add, &[Value(0), Value(3)]), // v4 = x + v3
            node(Op::Relu, &[Value(4)]),          // v5
            node(Op::Add, &[Value(5), Value(5)]), // refused: x + x
        ];
        let g = graph(vec![1, 1, 4, 4], nodes.clone(), consts.clone());
        assert!(matches!(
            float_stages(&g),
            Err(ModelError::Unsupported { .. })
        ));
        let mut nodes = nodes;
        nodes.pop();
        nodes.extend([
            node(Op::Flatten { axis: 1 }, &[Value(5)]),      // v6
            gemm_node(6, 4),                                 // v7
            node(Op::LeakyRelu { alpha: 0.1 }, &[Value(7)]), // v8
            gemm_node(8, 6),                                 // v9
        ]);
        assert_stages_match(&graph(vec![1, 1, 4, 4], nodes, consts.clone()));

        // an Add after the activation: v2 + relu(conv(v2)), both non-negative
        let nodes = vec![
            conv_node(0, 0),                            // v1
            node(Op::Relu, &[Value(1)]),                // v2
            conv_node(2, 8),                            // v3
            node(Op::Relu, &[Value(3)]),                // v4
            node(Op::Add, &[Value(4), Value(2)]),       // v5
            node(Op::Flatten { axis: 1 }, &[Value(5)]), // v6
            gemm_node(6, 10),                           // v7
        ];
        let mut c2 = consts;
        c2.extend([
            tensor(vec![2, 2, 3, 3], 9),
            tensor(vec![2], 10),
            tensor(vec![2, 32], 11),
            tensor(vec![2], 12),
        ]);
        assert_stages_match(&graph(vec![1, 1, 4, 4], nodes, c2));
    }

    /// `x → Conv(2 channels, 3×3, pad 1) → Relu → pool → Flatten → Gemm(→ 3)` on a 5×5 input.
    fn pooled_graph(pool_op: Op, pooled: usize) -> Graph {
        let nodes = vec![
            conv_node(0, 0),
            node(Op::Relu, &[Operand::Value(1)]),
            node(pool_op, &[Operand::Value(2)]),
            node(Op::Flatten { axis: 1 }, &[Operand::Value(3)]),
            gemm_node(4, 2),
        ];
        let consts = vec![
            tensor(vec![2, 1, 3, 3], 21),
            tensor(vec![2], 22),
            tensor(vec![3, pooled], 23),
            tensor(vec![3], 24),
        ];
        graph(vec![1, 1, 5, 5], nodes, consts)
    }

    #[test]
    fn overlapping_padded_and_odd_pools_lower_to_the_same_function() {
        let max = Op::MaxPool {
            kernel: [3, 3],
            strides: [2, 2],
            pads: [1, 1, 1, 1],
        };
        let avg = |count_include_pad| Op::AveragePool {
            kernel: [3, 3],
            strides: [1, 1],
            pads: [1, 1, 1, 1],
            count_include_pad,
        };
        // 3×3 windows every 2 with padding: 3×3 outputs per channel
        assert_stages_match(&pooled_graph(max, 18));
        assert_stages_match(&pooled_graph(avg(true), 50));
        assert_stages_match(&pooled_graph(Op::GlobalAveragePool, 2));
        // a divisor per window cannot be one multiplier
        assert!(matches!(
            float_stages(&pooled_graph(avg(false), 50)),
            Err(ModelError::Unsupported { .. })
        ));
    }

    #[test]
    fn an_overlapping_max_pool_is_exact_in_integers() {
        let g = pooled_graph(
            Op::MaxPool {
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
            },
            18,
        );
        let calib: Vec<Vec<f32>> = (0..8).map(|s| tensor(vec![25], 50 + s).data).collect();
        let (q, _) = lower_graph(&g, Some(&calib)).unwrap().unwrap();
        // conv, the pair layer, three halvings (16 → 8 → 4 → 2 per window), Gemm
        assert_eq!(q.layers.len(), 6);
        let xs: Vec<Vec<i64>> = calib.iter().map(|x| q.quantize_input(x).unwrap()).collect();
        for exec in q.run(&xs).unwrap() {
            let windows = &exec.layers[1].input; // ReLU'd conv outputs, 16 per window
            let pooled = &exec.layers[5].input; // one pair per window, summing to its maximum
            assert_eq!(windows.len(), 18 * 16);
            for (w, win) in windows.chunks(16).enumerate() {
                let max = win.iter().copied().max().unwrap();
                assert_eq!(pooled[2 * w] + pooled[2 * w + 1], max, "window {w}");
            }
        }
    }
}
