//! The `ai.onnx.ml` op family: tree ensembles (parsed in [`crate::import::trees`]), linear models,
//! one-vs-one SVMs, `Normalizer` and `Scaler` (`ArrayFeatureExtractor` with constant indices is
//! parsed by the registry, which holds the constants). Other ops of the domain are only accepted in the label plumbing the
//! loader strips.

use crate::error::Result;
use crate::import::attrs::{get_floats, get_int, get_ints, get_string};
use crate::import::ml_attrs::{class_labels, ml_invalid, ml_unsupported, post_transform};
use crate::import::onnx::NodeProto;
use crate::import::trees::import_trees;
use crate::ir::graph::Op;
use crate::ir::linear::LinearModel;
use crate::ir::scores::{Norm, MAX_TARGETS};
use crate::ir::svm::{Kernel, SvmModel};

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

/// A one-vs-one `SVMClassifier` or an `SVMRegressor` (the `SVM_SVC` mode: support vectors
/// given; see [`SvmModel::classes`] for the regressor's shape).
fn import_svm(n: &NodeProto, node: &str, op: &str) -> Result<SvmModel> {
    let params = get_floats(n, "kernel_params", node)?;
    let param = |i: usize, d: f32| params.get(i).copied().unwrap_or(d);
    let (gamma, coef0) = (param(0, 0.1), param(1, 0.0));
    let kernel = match get_string(n, "kernel_type", b"LINEAR", node)? {
        b"LINEAR" => Kernel::Linear,
        b"POLY" => Kernel::Poly {
            gamma,
            coef0,
            degree: param(2, 3.0) as u32,
        },
        b"RBF" => Kernel::Rbf { gamma },
        b"SIGMOID" => Kernel::Sigmoid { gamma, coef0 },
        other => {
            return Err(ml_unsupported(
                op,
                node,
                format!("kernel `{}`", String::from_utf8_lossy(other)),
            ))
        }
    };
    if get_string(n, "post_transform", b"NONE", node)? != b"NONE" {
        return Err(ml_unsupported(
            op,
            node,
            "a post_transform (glassbox proves the votes, whose first maximum is the label)",
        ));
    }
    if !get_floats(n, "prob_a", node)?.is_empty() {
        return Err(ml_unsupported(
            op,
            node,
            "Platt probabilities (prob_a/prob_b): export with probability=False",
        ));
    }
    let regressor = n.op_type == "SVMRegressor";
    if regressor && get_int(n, "one_class", 0, node)? != 0 {
        return Err(ml_unsupported(op, node, "a one-class SVM"));
    }
    let vectors_per_class: Vec<usize> = if regressor {
        let n_supports = get_int(n, "n_supports", 0, node)?;
        let count = usize::try_from(n_supports)
            .map_err(|_| ml_invalid(op, node, "a negative support-vector count"))?;
        if count == 0 {
            vec![]
        } else {
            vec![count, 0]
        }
    } else {
        get_ints(n, "vectors_per_class", node)?
            .iter()
            .map(|&v| {
                usize::try_from(v).map_err(|_| ml_invalid(op, node, "a negative vector count"))
            })
            .collect::<Result<_>>()?
    };
    if vectors_per_class.is_empty() {
        return Err(ml_unsupported(
            op,
            node,
            "the linear mode without support vectors (export a LinearClassifier instead)",
        ));
    }
    let support_vectors = get_floats(n, "support_vectors", node)?.to_vec();
    let n_sv: usize = vectors_per_class.iter().sum();
    let model = SvmModel {
        n_features: support_vectors.len().checked_div(n_sv).unwrap_or(0),
        kernel,
        support_vectors,
        vectors_per_class,
        coefficients: get_floats(n, "coefficients", node)?.to_vec(),
        rho: get_floats(n, "rho", node)?.to_vec(),
        classes: class_labels(n, ["classlabels_ints", "classlabels_strings"], op, node)?,
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
