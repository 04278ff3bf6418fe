//! `SVMClassifier` and `SVMRegressor` of the `ai.onnx.ml` family: kernels, support vectors and
//! dual coefficients, checked and turned into an [`SvmModel`].

use crate::error::Result;
use crate::import::attrs::{get_floats, get_int, get_ints, get_string};
use crate::import::ml_attrs::{class_labels, ml_invalid, ml_unsupported};
use crate::import::onnx::NodeProto;
use crate::ir::svm::{Kernel, SvmModel};

/// A one-vs-one `SVMClassifier` or an `SVMRegressor` (the `SVM_SVC` mode: support vectors
/// given; see [`SvmModel::classes`] for the regressor's shape).
pub(crate) fn import_svm(n: &NodeProto, node: &str, op: &str) -> Result<SvmModel> {
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
