//! The [`Builder`]: appends stages for each lowered node and keeps the current activations'
//! relation to the ONNX tensor (and to every carried skip) up to date.

use crate::error::Result;
use crate::ir::graph::Node;
use crate::lower::convnet::stages::{
    unsupported, Act, Affine, Parts, Skip, Stage, MAX_ACTIVATIONS, MAX_DENSE_CELLS,
};
use crate::quant::model::is_permutation;

/// The lowered float network and how the current activations map to the ONNX tensor.
pub(crate) struct Builder {
    pub(crate) stages: Vec<Stage>,
    /// `[C, H, W]` of the current ONNX tensor (`[n, 1, 1]` once flat).
    pub(crate) shape: [usize; 3],
    /// The current ONNX tensor in terms of our activations.
    pub(crate) parts: Parts,
    pub(crate) width: usize,
    /// Values that later nodes read again, carried alongside.
    pub(crate) skips: Vec<Skip>,
    /// Index of the node being lowered.
    pub(crate) node: usize,
    /// Per current ONNX value, the constant it carries above the graph's value: a smooth
    /// activation before a pool is shifted to be non-negative (the pools' layers clamp at 0), and
    /// the next Conv/Gemm subtracts what reaches it through its bias.
    pub(crate) offset: Option<Vec<f64>>,
}

impl Builder {
    /// A dense layer `y_o = Σ_i W[o][i]·v_i + b_o` over the current ONNX values `v`, followed by
    /// rows that carry every skip still read after this node.
    pub(crate) fn dense(
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
        // the shift a pooled smooth activation carries comes off through the bias
        let b = match self.offset.take() {
            Some(off) => b
                .iter()
                .enumerate()
                .map(|(o, &v)| {
                    v - off
                        .iter()
                        .enumerate()
                        .map(|(i, c)| w(o, i) * c)
                        .sum::<f64>()
                })
                .collect(),
            None => b,
        };
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
            smooth: None,
        }));
        self.parts = (0..n_out).map(|o| vec![(o, 1.0)]).collect();
        self.width = row;
        Ok(())
    }

    /// Before a pool that follows a smooth activation: shifts the activation so that it is
    /// non-negative, and records the shift as the offset each of the `values` ONNX values carries.
    ///
    /// # Errors
    /// A function unbounded below, or an evaluation error.
    pub(crate) fn shift_smooth(&mut self, values: usize) -> Result<()> {
        if let Some(Stage::Affine(a)) = self.stages.last_mut() {
            if let (Act::Smooth, Some(f)) = (a.act, &a.smooth) {
                if let Some(c) = f.nonnegative_shift()? {
                    a.smooth = Some(f.plus(c));
                    self.offset = Some(vec![f64::from(c); values]);
                }
            }
        }
        Ok(())
    }

    /// The offsets after a pool over `windows` (ONNX indices, before padding): a max pool keeps
    /// its window's common offset, an average divides their sum by `divisor`.
    ///
    /// # Errors
    /// A max pool over values whose offsets differ (then the maximum is not shifted alike).
    pub(crate) fn pool_offset(
        &mut self,
        node: &Node,
        windows: &[Vec<usize>],
        divisor: Option<usize>,
    ) -> Result<()> {
        let Some(off) = self.offset.take() else {
            return Ok(());
        };
        let mut out = Vec::with_capacity(windows.len());
        for w in windows {
            let vals: Vec<f64> = w
                .iter()
                .map(|&i| off.get(i).copied().unwrap_or(0.0))
                .collect();
            out.push(match divisor {
                Some(d) => vals.iter().sum::<f64>() / d as f64,
                None => {
                    let first = vals.first().copied().unwrap_or(0.0);
                    if vals.iter().any(|v| (v - first).abs() > 1e-12) {
                        return Err(unsupported(
                            node,
                            "a max pool over values shifted unequally (an average pool with \
                             padding before it)",
                        ));
                    }
                    first
                }
            });
        }
        self.offset = Some(out);
        Ok(())
    }

    /// True if the last stage carries skips (its activation must then be a plain ReLU).
    pub(crate) fn carries(&self) -> bool {
        self.skips.iter().any(|s| !s.rows.is_empty())
    }

    /// `Add` of the current value and the skip `value`: folded into the last stage's rows if it
    /// has no activation yet (the usual `Conv → Add → Relu`), else a sum of activations.
    pub(crate) fn add(&mut self, node: &Node, value: usize) -> Result<()> {
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
    pub(crate) fn drop_rows(&mut self, rows: core::ops::Range<usize>) {
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
    pub(crate) fn leaky_relu(&mut self, node: &Node, alpha: f64) -> Result<()> {
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
            conv.dims.out_channels *= 2;
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
    pub(crate) fn group_outputs(&mut self, node: &Node, windows: &[Vec<usize>]) -> Result<()> {
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
pub(crate) fn input_copies(parts: &Parts, width: usize) -> Option<usize> {
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
