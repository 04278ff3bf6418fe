//! Preprocessing in front of a linear model or an SVM, folded into one affine map.
//!
//! `Scaler`, `Add`/`Sub`/`Mul`/`Div` by constants, `MatMul`/`Gemm` by constant matrices (PCA and
//! TruncatedSVD), `ArrayFeatureExtractor` with constant indices, `Concat`, and the shape plumbing
//! are all affine in the raw features, so any chain of them is `z = A·x + c`. The map is read off
//! the float graph itself (its value at `0` and at `t·e_j` for every feature `j`), so it is exactly
//! what onnxruntime computes, op by op, up to `f32` rounding. The lowering then folds `A` and `c`
//! into the model's first layer and encodes the *raw* features; the digest commits the folded
//! weights and the encoding, so the preprocessing is part of what a proof binds.

use crate::error::{ModelError, Result};
use crate::ir::graph::{Graph, Node, Op, Operand};

/// The basis step: large enough that `f32` rounding of the offset is negligible in `A`.
const PROBE: f32 = 1024.0;

/// `z = A·x + c`: `A` row-major `[n_out][n_in]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AffinePrefix {
    /// Raw features.
    pub(crate) n_in: usize,
    /// Features the model reads.
    pub(crate) n_out: usize,
    /// Row-major `[n_out][n_in]`.
    pub(crate) a: Vec<f64>,
    /// `n_out` offsets.
    pub(crate) c: Vec<f64>,
}

impl AffinePrefix {
    /// The same map as a function of affine codes `u` (`x = offset + step ⊙ u`).
    pub(crate) fn over_codes(&self, offset: &[f64], step: &[f64]) -> Self {
        let mut a = self.a.clone();
        let mut c = self.c.clone();
        for (k, row) in a.chunks_mut(self.n_in).enumerate() {
            for (i, v) in row.iter_mut().enumerate() {
                c[k] += *v * offset[i];
                *v *= step[i];
            }
        }
        Self { a, c, ..*self }
    }

    /// `A·x + c` for one sample.
    pub(crate) fn apply(&self, x: &[f32]) -> Vec<f64> {
        self.a
            .chunks(self.n_in.max(1))
            .zip(&self.c)
            .map(|(row, c)| {
                c + row
                    .iter()
                    .zip(x)
                    .map(|(a, &v)| a * f64::from(v))
                    .sum::<f64>()
            })
            .collect()
    }

    /// Folds the prefix into rows over its output: `w·z + b = (w·A)·x + (w·c + b)`. `rows` is
    /// row-major `[m][n_out]`; returns `[m][n_in]` and the new intercepts.
    pub(crate) fn fold(&self, rows: &[f64], intercepts: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut out = vec![0.0; intercepts.len() * self.n_in];
        let mut b = intercepts.to_vec();
        for (r, row) in rows.chunks(self.n_out).enumerate() {
            for (k, &w) in row.iter().enumerate() {
                let a = &self.a[k * self.n_in..(k + 1) * self.n_in];
                for (o, &v) in out[r * self.n_in..(r + 1) * self.n_in].iter_mut().zip(a) {
                    *o += w * v;
                }
                b[r] += w * self.c[k];
            }
        }
        (out, b)
    }
}

/// Whether `node` is an affine step (constant weights on the right side where it matters).
pub(crate) fn is_affine(node: &Node) -> bool {
    let constant = |k: usize| matches!(node.inputs.get(k), Some(Operand::Const(_)));
    match node.op {
        Op::Identity
        | Op::Scaler { .. }
        | Op::Flatten { .. }
        | Op::Reshape { .. }
        | Op::SelectFeatures { .. }
        | Op::Concat { .. }
        | Op::Add
        | Op::Sub => true,
        Op::Mul => constant(0) || constant(1),
        Op::Div | Op::MatMul => constant(1),
        Op::Gemm { trans_a, .. } => !trans_a && constant(1),
        _ => false,
    }
}

/// Checks that every step before value `value` is affine.
///
/// # Errors
/// [`ModelError::Unsupported`] naming the first step that is not, and why; a `Normalizer` gets
/// its own reason (it is the one non-affine preprocessing step scikit-learn pipelines export).
pub(crate) fn check_affine(graph: &Graph, value: usize) -> Result<()> {
    let Some(node) = graph.nodes.iter().take(value).find(|n| !is_affine(n)) else {
        return Ok(());
    };
    let reason = match node.op {
        Op::Normalizer { norm } => format!(
            "the Normalizer ({norm:?} norm) after other preprocessing divides every sample by its \
             own norm, which depends on all of its features: that map is not affine, so it folds \
             into no layer, and only a Normalizer on the raw features themselves can become part \
             of the committed input encoding; move it first, or normalize the features before \
             they reach the model"
        ),
        _ => "only affine preprocessing (Scaler, Add/Sub/Mul/Div by constants, MatMul by a \
              constant, ArrayFeatureExtractor, Concat) can sit in front of a model"
            .into(),
    };
    Err(ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason,
    })
}

/// The affine map from the graph input to value `value` (the input of the model node), or the
/// identity if `value` is the input itself.
///
/// # Errors
/// [`ModelError::Unsupported`] naming the first step that is not affine ([`check_affine`]);
/// errors of the float graph.
pub(crate) fn affine_prefix(graph: &Graph, value: usize) -> Result<AffinePrefix> {
    let n_in = graph.input_len;
    check_affine(graph, value)?;
    let mut x = vec![0f32; n_in];
    let c: Vec<f64> = graph
        .run_value(&x, value)?
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let n_out = c.len();
    let mut a = vec![0.0; n_out * n_in];
    for j in 0..n_in {
        x[j] = PROBE;
        let z = graph.run_value(&x, value)?;
        x[j] = 0.0;
        for (k, (&zk, &ck)) in z.iter().zip(&c).enumerate() {
            a[k * n_in + j] = (f64::from(zk) - ck) / f64::from(PROBE);
        }
    }
    if a.iter().chain(&c).any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            context: "folded preprocessing".into(),
        });
    }
    Ok(AffinePrefix { n_in, n_out, a, c })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_composes_rows_with_the_map() {
        // z = [2·x0 + 1, x0 − x1]
        let p = AffinePrefix {
            n_in: 2,
            n_out: 2,
            a: vec![2.0, 0.0, 1.0, -1.0],
            c: vec![1.0, 0.0],
        };
        // w = [3, 4], b = 5: 3·(2x0 + 1) + 4·(x0 − x1) + 5 = 10·x0 − 4·x1 + 8
        let (rows, b) = p.fold(&[3.0, 4.0], &[5.0]);
        assert_eq!(rows, vec![10.0, -4.0]);
        assert_eq!(b, vec![8.0]);
    }

    #[test]
    fn a_normalizer_after_a_scaler_is_refused_by_name() {
        use crate::ir::graph::{Node, Operand};
        use crate::ir::scores::Norm;
        let node = |name: &str, op: Op, input: usize| Node {
            name: name.into(),
            op_type: op.name().into(),
            op,
            inputs: vec![Operand::Value(input)],
        };
        let scaler = Op::Scaler {
            offset: vec![0.0; 2],
            scale: vec![2.0; 2],
        };
        let normalizer = Op::Normalizer { norm: Norm::L2 };
        let graph = Graph {
            name: "g".into(),
            input_name: "input".into(),
            input_shape: vec![1, 2],
            input_len: 2,
            constants: vec![],
            nodes: vec![node("scale", scaler, 0), node("norm", normalizer, 1)],
            output_name: "out".into(),
            output: 2,
            logits: 2,
            classifier: false,
            binary_head: false,
        };
        match check_affine(&graph, 2) {
            Err(crate::ModelError::Unsupported { node, reason, .. }) => {
                assert_eq!(node, "norm");
                assert!(reason.contains("after other preprocessing"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
