//! The lowered float network: affine stages and exact pools over groups of activations, the
//! weighted sums ([`Parts`]) that tie activations to ONNX values, the skips carried alongside, and
//! the float forward pass over the stages.

use crate::error::ModelError;
use crate::exec::patch::add_shifted;
use crate::ir::graph::Node;
use crate::lower::smooth::scalar::ScalarFn;
use crate::quant::model::ConvGeometry;

/// Widest activation vector the lowering builds (the proof's layer-width limit, 2^16).
pub(crate) const MAX_ACTIVATIONS: usize = glassbox_air::limits::MAX_DIM;

/// Largest dense layer (weights) a convolution or Gemm may lower to.
pub(crate) const MAX_DENSE_CELLS: usize = 1 << 24;

/// The identity multiplier (`t = acc`).
pub(crate) const IDENTITY: u32 = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    None,
    Relu,
    Relu6,
    /// A smooth activation (the stage's `smooth` function), proven through an activation table.
    Smooth,
}

impl Act {
    /// The activation of `v` (a smooth one is the stage's function, see [`Affine::activate`]).
    pub(crate) fn apply(self, v: f64) -> f64 {
        match self {
            Act::None | Act::Smooth => v,
            Act::Relu => v.max(0.0),
            Act::Relu6 => v.clamp(0.0, 6.0),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Affine {
    pub(crate) n_in: usize,
    pub(crate) n_out: usize,
    /// Row-major `[n_out][n_in]`, in our activation order.
    pub(crate) w: Vec<f64>,
    pub(crate) b: Vec<f64>,
    pub(crate) act: Act,
    /// The convolution this stage computes, while its rows are exactly that (no carried skip,
    /// no folded skip, at most a permutation of its outputs).
    pub(crate) conv: Option<ConvGeometry>,
    /// With [`Act::Smooth`]: the function.
    pub(crate) smooth: Option<ScalarFn>,
}

impl Affine {
    /// The pre-activations of one sample.
    pub(crate) fn affine(&self, a: &[f64]) -> Vec<f64> {
        (0..self.n_out)
            .map(|o| {
                self.b[o]
                    + self.w[o * self.n_in..(o + 1) * self.n_in]
                        .iter()
                        .zip(a)
                        .map(|(w, x)| w * x)
                        .sum::<f64>()
            })
            .collect()
    }

    /// The stage's activation of its pre-activations `z`.
    pub(crate) fn activate(&self, z: Vec<f64>) -> Vec<f64> {
        activate(self.act, self.smooth.as_ref(), z)
    }
}

/// Activation `act` (with its function if smooth) of pre-activations `z`.
fn activate(act: Act, smooth: Option<&ScalarFn>, z: Vec<f64>) -> Vec<f64> {
    match (smooth, act) {
        (Some(f), Act::Smooth) => {
            let zs: Vec<f32> = z.iter().map(|&v| v as f32).collect();
            // the function evaluates with the graph's own kernels; a failure there was already
            // reported when the function was read, so it keeps the values
            f.eval_many(&zs)
                .map(|y| y.into_iter().map(f64::from).collect())
                .unwrap_or(z)
        }
        (_, act) => z.into_iter().map(|v| act.apply(v)).collect(),
    }
}

/// A convolution as a patch layer (see `glassbox_air::conv::PatchShape`): kernel rows over
/// `planes` boxes of `plane` values, outputs in `order` (row `r` holds natural output `order[r]`).
#[derive(Debug, Clone)]
pub(crate) struct PatchStage {
    pub(crate) planes: usize,
    pub(crate) plane: usize,
    pub(crate) out_channels: usize,
    /// Row-major `[out_channels][planes·plane]`.
    pub(crate) kernel: Vec<f64>,
    /// One bias per output channel.
    pub(crate) bias: Vec<f64>,
    pub(crate) act: Act,
    pub(crate) order: Vec<u32>,
    /// With [`Act::Smooth`]: the function.
    pub(crate) smooth: Option<ScalarFn>,
    /// Added to the bias of each natural output `o·P + p` (taking off the shift a pooled smooth
    /// activation before this stage carries on the image's cells).
    pub(crate) bias_shift: Option<Vec<f64>>,
    /// True if the next stage reads the maximum of each window of four consecutive output rows
    /// (a 2×2 max pool in the AIR's pool unit).
    pub(crate) pooled: bool,
    /// Per value the next stage reads (a window's maximum if pooled): 1 on the next image's
    /// cells, 0 on its spare cells, which the stage makes zero (a ReLU stage whose next
    /// convolution reads them as padding). The quantizer gives their outputs a bias no input can
    /// overcome, or adds a mask layer where no such bias fits the requantization's range.
    pub(crate) clear: Option<Vec<f64>>,
    /// True if reads beyond a plane's ends are zero instead of wrapping around (see
    /// `glassbox_air::conv::PatchShape::linear`): the image may fill its box's height.
    pub(crate) linear: bool,
}

impl PatchStage {
    /// The stage's outputs after its activation.
    pub(crate) fn forward(&self, x: &[f64]) -> Vec<f64> {
        let y = activate(self.act, self.smooth.as_ref(), self.apply(x));
        let mut y: Vec<f64> = if self.pooled {
            y.chunks(4)
                .map(|w| w.iter().copied().fold(f64::MIN, f64::max))
                .collect()
        } else {
            y
        };
        if let Some(clear) = &self.clear {
            y.iter_mut().zip(clear).for_each(|(v, c)| *v *= c);
        }
        y
    }

    /// The stage's output rows (before its activation): the cyclic correlation, reordered.
    pub(crate) fn apply(&self, x: &[f64]) -> Vec<f64> {
        let (p, n_in) = (self.plane, self.planes * self.plane);
        let mut natural = vec![0f64; self.out_channels * p];
        for (o, row) in self.kernel.chunks(n_in).enumerate() {
            let y = &mut natural[o * p..(o + 1) * p];
            y.iter_mut().for_each(|v| *v = self.bias[o]);
            if let Some(shift) = &self.bias_shift {
                y.iter_mut()
                    .zip(&shift[o * p..(o + 1) * p])
                    .for_each(|(v, d)| *v += d);
            }
            for (j, &k) in row.iter().enumerate() {
                if k != 0.0 {
                    add_shifted(y, &x[(j / p) * p..(j / p + 1) * p], k, j % p, self.linear);
                }
            }
        }
        self.order.iter().map(|&i| natural[i as usize]).collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Stage {
    Affine(Affine),
    /// The raw `C × height × width` input placed at the top left of `C` boxes of
    /// `box_h × box_w` (zeros elsewhere): the model's input encoding, not a layer.
    Boxed {
        height: usize,
        width: usize,
        box_h: usize,
        box_w: usize,
    },
    Patch(PatchStage),
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

pub(crate) fn unsupported(node: &Node, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason: reason.into(),
    }
}

/// A value in terms of the current activations: per ONNX flat index, `Σ coeff · a_k`.
pub(crate) type Parts = Vec<Vec<(usize, f64)>>;

/// A value read again further on (a residual skip), carried through the layers in between.
#[derive(Debug, Clone)]
pub(crate) struct Skip {
    /// Its value id.
    pub(crate) value: usize,
    /// The last node that reads it.
    pub(crate) last_reader: usize,
    /// True if it may be negative (then it is carried as `relu(v)` and `relu(−v)`).
    pub(crate) signed: bool,
    /// Its value in terms of the current activations.
    pub(crate) parts: Parts,
    /// Its value in terms of the last stage's inputs (to fold an `Add` into that stage).
    pub(crate) before_last: Option<Parts>,
    /// Rows of the last stage that carry it.
    pub(crate) rows: core::ops::Range<usize>,
    /// Rows of the stage before the last that carry it (empty if none).
    pub(crate) prev_rows: core::ops::Range<usize>,
}

impl Skip {
    /// A skip on `value`, read last by node `last_reader`, currently equal to `parts`.
    pub(crate) fn new(value: usize, last_reader: usize, signed: bool, parts: Parts) -> Self {
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

/// Runs the float stages (exact max pooling), returning the activations after every stage.
pub(crate) fn forward(stages: &[Stage], x: &[f64]) -> Vec<Vec<f64>> {
    let mut a = x.to_vec();
    let mut out = Vec::new();
    for s in stages {
        a = match s {
            Stage::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => {
                let mut boxed = vec![0f64; a.len() / (height * width) * box_h * box_w];
                for (f, &v) in a.iter().enumerate() {
                    let (c, y, x) = (f / (height * width), (f / width) % height, f % width);
                    boxed[c * box_h * box_w + y * box_w + x] = v;
                }
                boxed
            }
            Stage::Patch(p) => p.forward(&a),
            Stage::Affine(l) => l.activate(l.affine(&a)),
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
