//! One float dense layer ([`FloatDense`]): its affine map and activation, and how a `Gemm` or
//! `MatMul` weight and an `Add` bias become one.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::ir::graph::{Node, Tensor};
use crate::lower::smooth::scalar::ScalarFn;

/// One float dense layer `y = W x + b`, optionally followed by ReLU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatDense {
    /// Input width.
    pub n_in: usize,
    /// Output width.
    pub n_out: usize,
    /// Row-major `[n_out][n_in]`.
    pub weights: Vec<f32>,
    /// `n_out` biases.
    pub bias: Vec<f32>,
    /// ReLU after the affine map.
    pub relu: bool,
    /// With `relu`: clip at this value too, `min(max(v, 0), cap)` (the ramps of the RBF's first
    /// layer; the activation scale is then `cap/255` exactly).
    #[serde(default)]
    pub cap: Option<f32>,
    /// A smooth activation instead of ReLU (proven through an activation table over
    /// [`FloatDense::table_range`], see [`crate::lower::smooth`]).
    #[serde(default)]
    pub smooth: Option<ScalarFn>,
    /// With `smooth`: the pre-activation range `[lo, hi]` its table spans (set by calibration;
    /// quantization needs it).
    #[serde(default)]
    pub table_range: Option<(f64, f64)>,
}

impl FloatDense {
    /// `W·x + b` for one sample.
    ///
    /// # Errors
    /// [`ModelError::InputLength`] for a wrong-length input.
    pub fn affine(&self, x: &[f32]) -> Result<Vec<f32>> {
        if x.len() != self.n_in {
            return Err(ModelError::InputLength {
                expected: self.n_in,
                got: x.len(),
            });
        }
        Ok(self
            .weights
            .chunks(self.n_in.max(1))
            .zip(&self.bias)
            .map(|(row, b)| {
                let dot: f64 = row
                    .iter()
                    .zip(x)
                    .map(|(w, v)| f64::from(*w) * f64::from(*v))
                    .sum();
                (dot + f64::from(*b)) as f32
            })
            .collect())
    }

    /// The layer's activation applied to its pre-activations.
    ///
    /// # Errors
    /// Evaluation errors of a smooth activation.
    pub fn activate(&self, z: Vec<f32>) -> Result<Vec<f32>> {
        match (&self.smooth, self.relu, self.cap) {
            (Some(f), _, _) => f.eval_many(&z),
            (None, true, Some(c)) => Ok(z.into_iter().map(|v| v.clamp(0.0, c)).collect()),
            (None, true, None) => Ok(z.into_iter().map(|v| v.max(0.0)).collect()),
            (None, false, _) => Ok(z),
        }
    }
}

/// One dense layer from a Gemm/MatMul weight `w` (`trans`: stored `[n_out][n_in]`), scaled by
/// `alpha`, checking that it reads `width` inputs.
pub(crate) fn dense_from_weight(
    node: &Node,
    w: &Tensor,
    trans: bool,
    width: usize,
    alpha: f32,
) -> Result<FloatDense> {
    let [r, c] = w.shape.as_slice() else {
        return Err(ModelError::ShapeMismatch {
            context: format!("weights of node `{}`", node.name),
            expected: "rank 2".into(),
            got: format!("{:?}", w.shape),
        });
    };
    let (n_in, n_out) = if trans { (*c, *r) } else { (*r, *c) };
    if n_in != width {
        return Err(ModelError::ShapeMismatch {
            context: format!("weights of node `{}`", node.name),
            expected: format!("input width {width}"),
            got: format!("{n_in}"),
        });
    }
    let mut weights = Vec::with_capacity(w.len());
    for o in 0..n_out {
        for i in 0..n_in {
            let idx = if trans { o * n_in + i } else { i * n_out + o };
            weights.push(alpha * w.data.get(idx).copied().unwrap_or(0.0));
        }
    }
    Ok(FloatDense {
        n_in,
        n_out,
        weights,
        bias: vec![0.0; n_out],
        relu: false,
        cap: None,
        smooth: None,
        table_range: None,
    })
}

/// Adds `scale · c` (a vector of `n_out` values, `[1, n_out]` or a scalar) to the layer's bias.
pub(crate) fn add_bias(node: &Node, layer: &mut FloatDense, c: &Tensor, scale: f32) -> Result<()> {
    let n = layer.n_out;
    let ok_shape =
        matches!(c.shape.as_slice(), [] | [_] | [1, _]) && (c.len() == n || c.len() == 1);
    if !ok_shape {
        return Err(ModelError::ShapeMismatch {
            context: format!("bias of node `{}`", node.name),
            expected: format!("[{n}], [1, {n}] or a scalar"),
            got: format!("{:?}", c.shape),
        });
    }
    for (i, b) in layer.bias.iter_mut().enumerate() {
        let v = if c.len() == 1 {
            c.data.first()
        } else {
            c.data.get(i)
        };
        *b += scale * v.copied().unwrap_or(0.0);
    }
    Ok(())
}
