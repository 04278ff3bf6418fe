//! Attribute access and errors of the `ai.onnx.ml` family, shared by [`crate::import::ml`] and
//! [`crate::import::trees`]: post-transforms, ids in range, class labels.

use crate::error::{ModelError, Result};
use crate::import::attrs::{get_ints, get_string, get_strings};
use crate::import::onnx::NodeProto;
use crate::ir::scores::{PostTransform, MAX_TARGETS};

pub(crate) fn ml_unsupported(op: &str, node: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: op.into(),
        node: node.into(),
        reason: reason.into(),
    }
}

pub(crate) fn ml_invalid(op: &str, node: &str, reason: impl std::fmt::Display) -> ModelError {
    ModelError::InvalidGraph(format!("{op} node `{node}`: {reason}"))
}

pub(crate) fn post_transform(n: &NodeProto, op: &str, node: &str) -> Result<PostTransform> {
    let s = get_string(n, "post_transform", b"NONE", node)?;
    PostTransform::from_onnx(s).ok_or_else(|| {
        ml_unsupported(
            op,
            node,
            format!("post_transform `{}`", String::from_utf8_lossy(s)),
        )
    })
}

/// `usize` from an ONNX id, below `bound`.
pub(crate) fn index(v: i64, bound: usize, what: &str, op: &str, node: &str) -> Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|&u| u < bound)
        .ok_or_else(|| ml_invalid(op, node, format!("{what} {v} out of range (< {bound})")))
}

pub(crate) fn class_labels(
    n: &NodeProto,
    names: [&str; 2],
    op: &str,
    node: &str,
) -> Result<Vec<i64>> {
    if !get_strings(n, names[1], node)?.is_empty() {
        return Err(ml_unsupported(
            op,
            node,
            format!(
                "string class labels (`{}`); only int64 labels are supported",
                names[1]
            ),
        ));
    }
    let labels = get_ints(n, names[0], node)?;
    if labels.len() > MAX_TARGETS {
        return Err(ModelError::TooLarge {
            what: "class labels",
            limit: MAX_TARGETS as u64,
            got: labels.len() as u64,
        });
    }
    Ok(labels.to_vec())
}
