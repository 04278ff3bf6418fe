//! The `ai.onnx.ml` op family: tree ensembles (parsed in [`crate::import::trees`]), linear models,
//! SVMs (in [`crate::import::svm`]), `Normalizer` and `Scaler`. `ArrayFeatureExtractor` with
//! constant indices is parsed by the registry, which holds the constants. Other ops of the
//! domain are only accepted in the label plumbing the loader strips.

use crate::error::Result;
use crate::import::attrs::{get_floats, get_int, get_string};
use crate::import::ml_attrs::{class_labels, ml_invalid, ml_unsupported, post_transform};
use crate::import::onnx::NodeProto;
use crate::import::svm::import_svm;
use crate::import::trees::import_trees;
use crate::ir::graph::Op;
use crate::ir::linear::LinearModel;
use crate::ir::scores::{Norm, MAX_TARGETS};

/// The ONNX-ML operator domain.
pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// The `ai.onnx.ml` ops imported as graph nodes (see [`import_ml`], whose dispatch a test checks
/// against this list).
#[cfg(test)]
pub(crate) const OPS: &[&str] = &[
    "TreeEnsembleClassifier",
    "TreeEnsembleRegressor",
    "LinearClassifier",
    "LinearRegressor",
    "Normalizer",
    "Scaler",
    "SVMClassifier",
    "SVMRegressor",
];

/// Maps an ONNX-ML node to an [`Op`]; `Ok(None)` for ops that are not classic models (they are
/// refused by the caller unless stripped as label plumbing).
pub(crate) fn import_ml(
    n: &NodeProto,
    node: &str,
    op: &str,
    n_features: usize,
) -> Result<Option<Op>> {
    for a in &n.attribute {
        if a.name.ends_with("_as_tensor") {
            return Err(ml_unsupported(
                op,
                node,
                format!("double-precision attribute `{}`", a.name),
            ));
        }
    }
    let op_out = match n.op_type.as_str() {
        "TreeEnsembleClassifier" | "TreeEnsembleRegressor" => {
            Op::TreeEnsemble(Box::new(import_trees(n, node, op, n_features)?))
        }
        "LinearClassifier" | "LinearRegressor" => {
            Op::Linear(Box::new(import_linear(n, node, op, n_features)?))
        }
        "SVMClassifier" | "SVMRegressor" => Op::Svm(Box::new(import_svm(n, node, op)?)),
        "Normalizer" => {
            let s = get_string(n, "norm", b"MAX", node)?;
            let norm = Norm::from_onnx(s).ok_or_else(|| {
                ml_unsupported(op, node, format!("norm `{}`", String::from_utf8_lossy(s)))
            })?;
            Op::Normalizer { norm }
        }
        "Scaler" => {
            let offset = get_floats(n, "offset", node)?;
            let scale = get_floats(n, "scale", node)?;
            let or = |v: &[f32], d: f32| if v.is_empty() { vec![d] } else { v.to_vec() };
            Op::Scaler {
                offset: or(offset, 0.0),
                scale: or(scale, 1.0),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(op_out))
}

fn import_linear(n: &NodeProto, node: &str, op: &str, n_features: usize) -> Result<LinearModel> {
    let coefficients = get_floats(n, "coefficients", node)?.to_vec();
    let intercepts = get_floats(n, "intercepts", node)?;
    let classes = if n.op_type == "LinearClassifier" {
        Some(class_labels(
            n,
            ["classlabels_ints", "classlabels_strings"],
            op,
            node,
        )?)
    } else {
        None
    };
    let n_targets = if !intercepts.is_empty() {
        intercepts.len()
    } else if n.op_type == "LinearRegressor" {
        usize::try_from(get_int(n, "targets", 1, node)?).unwrap_or(0)
    } else {
        coefficients.len() / n_features.max(1)
    };
    let intercepts = if intercepts.is_empty() {
        vec![0.0; n_targets.min(MAX_TARGETS)]
    } else {
        intercepts.to_vec()
    };
    // behind preprocessing (a PCA, a feature selection) the model reads fewer or more features
    // than the graph input has: its coefficients say how many
    let n_features = match n_targets {
        0 => n_features,
        t if coefficients.len() % t == 0 && coefficients.len() >= t => coefficients.len() / t,
        _ => n_features,
    };
    let model = LinearModel {
        n_features,
        n_targets,
        coefficients,
        intercepts,
        post_transform: post_transform(n, op, node)?,
        classes,
    };
    model.validate().map_err(|e| ml_invalid(op, node, e))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_op_is_dispatched_and_no_other() {
        for op in OPS.iter().chain(&["ZipMap", "Imputer"]) {
            let n = NodeProto {
                op_type: (*op).into(),
                domain: ML_DOMAIN.into(),
                ..NodeProto::default()
            };
            let dispatched = !matches!(import_ml(&n, "n", op, 2), Ok(None));
            assert_eq!(dispatched, OPS.contains(op), "{op}");
        }
    }
}
