//! Tree ensembles behind affine preprocessing (a scikit-learn `Pipeline` of scalers, a PCA, a
//! feature selection, then a tree, forest or boosted ensemble).
//!
//! Two encodings, chosen by what the preprocessing does to the features:
//! * **Per feature** (scalers, arithmetic by constants, selection and concatenation): every
//!   feature the trees read is a monotone `f32` chain of one raw feature ([`chains`]), so every
//!   branch is a range of one raw feature and the encoding stays
//!   [`InputEncoding::Thresholds`] over the *raw* features, exact against onnxruntime's `f32`.
//! * **Mixing** (a matrix product, arithmetic between features): the map `z = A·x + c` is read
//!   off the float graph ([`affine_prefix`]) and committed as an [`InputEncoding::Projected`]
//!   encoding, whose cuts are the trees' own thresholds on `z`. Its arithmetic is fixed by the
//!   encoding (binary64 in feature order, rounded once to `f32`), so the auditor reproduces
//!   the codes bit for bit; it is not onnxruntime's `f32` matrix product, and the two differ by
//!   a few ulps of `z`.
//!
//! Either way the digest commits the preprocessing, and `verify --inputs` re-encodes an
//! auditor's raw features through it.

use crate::error::{ModelError, Result};
use crate::ir::graph::Graph;
use crate::ir::tree::TreeEnsemble;
use crate::lower::tabular::chains::Feature;
use crate::lower::tabular::per_feature::trace;
use crate::lower::tabular::prefix::{affine_prefix, check_affine};
use crate::lower::tabular::splits::Condition;
use crate::lower::tabular::trees::{lower_trees_over, PathShape};
use crate::quant::encoding::{InputEncoding, Projection};
use crate::quant::model::QuantizedModel;

/// Lowers the tree ensemble `t`, which reads value `value` of `graph`, behind the graph's
/// preprocessing (see the [module docs](self)). `samples` (calibration) are only used to
/// cross-check the per-feature chains against the float graph.
///
/// # Errors
/// [`ModelError::Unsupported`] for a step that is not affine (a `Normalizer` among them), the
/// tree lowering's errors, and [`ModelError::InvalidModel`] for a map beyond the projection's
/// limits.
pub(crate) fn lower_preprocessed_trees(
    graph: &Graph,
    value: usize,
    t: &TreeEnsemble,
    samples: Option<&[Vec<f32>]>,
) -> Result<QuantizedModel> {
    check_affine(graph, value)?;
    let width = |n: usize| {
        if n == t.n_features {
            Ok(())
        } else {
            Err(ModelError::ShapeMismatch {
                context: "the preprocessed features a tree ensemble reads".into(),
                expected: format!("{} features", t.n_features),
                got: format!("{n} features"),
            })
        }
    };
    if let Some(features) = trace(graph, value)? {
        width(features.len())?;
        cross_check(graph, value, &features, samples)?;
        return lower_trees_over(t, PathShape::Cheapest, graph.input_len, |f, mode, thr| {
            features[f].condition(mode, thr)
        });
    }
    let prefix = affine_prefix(graph, value)?;
    width(prefix.n_out)?;
    let mut q = lower_trees_over(t, PathShape::Cheapest, t.n_features, Condition::direct)?;
    let map = Projection {
        inputs: prefix.n_in,
        matrix: prefix.a,
        offset: prefix.c,
    };
    let plain = std::mem::replace(&mut q.input_encoding, InputEncoding::Symmetric);
    if let InputEncoding::Thresholds { cuts } = plain {
        q.input_encoding = InputEncoding::Projected { map, cuts };
    }
    Ok(q)
}

/// The chains must compute what the float graph computes, bit for bit, on the zero sample and
/// the calibration samples: the fold is exact only for the function it was derived from.
fn cross_check(
    graph: &Graph,
    value: usize,
    features: &[Feature],
    samples: Option<&[Vec<f32>]>,
) -> Result<()> {
    let zero = vec![0f32; graph.input_len];
    for x in std::iter::once(&zero).chain(samples.unwrap_or_default()) {
        let Ok(want) = graph.run_value(x, value) else {
            continue; // a sample the float graph itself cannot run proves nothing here
        };
        let same = features
            .iter()
            .zip(&want)
            .all(|(f, &w)| f.eval(x).to_bits() == w.to_bits());
        if !same || want.len() != features.len() {
            return Err(ModelError::InvalidGraph(
                "the per-feature preprocessing in front of the trees does not reproduce the \
                 float graph"
                    .into(),
            ));
        }
    }
    Ok(())
}
