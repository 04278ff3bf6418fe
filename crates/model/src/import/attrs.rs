//! Typed access to ONNX node attributes, node naming, and the errors that name a node's op.

use crate::error::{ModelError, Result};
use crate::import::onnx::{attribute_type, AttributeProto, NodeProto};

/// `AttributeProto.AttributeType.STRINGS`.
const ATTR_STRINGS: i32 = 8;

pub(crate) fn node_name(i: usize, n: &NodeProto) -> String {
    if n.name.is_empty() {
        format!("#{i}")
    } else {
        n.name.clone()
    }
}

pub(crate) fn op_label(n: &NodeProto) -> String {
    if n.domain.is_empty() || n.domain == "ai.onnx" {
        n.op_type.clone()
    } else {
        format!("{}:{}", n.domain, n.op_type)
    }
}

pub(crate) fn has_input(n: &NodeProto, k: usize) -> bool {
    n.input.get(k).is_some_and(|s| !s.is_empty())
}

pub(crate) fn unsupported_op(n: &NodeProto, node: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: op_label(n),
        node: node.into(),
        reason: reason.into(),
    }
}

pub(crate) fn invalid_attr(n: &NodeProto, node: &str, what: &str) -> ModelError {
    ModelError::InvalidGraph(format!("{} node `{node}`: {what}", op_label(n)))
}

pub(crate) fn get_ints<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [i64]> {
    match attr(n, name) {
        None => Ok(&[]),
        Some(a) if a.r#type == attribute_type::INTS || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.ints)
        }
        Some(a) => Err(wrong_attr(n, node, a, "INTS")),
    }
}

pub(crate) fn get_floats<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [f32]> {
    let v: &[f32] = match attr(n, name) {
        None => &[],
        Some(a) if a.r#type == attribute_type::FLOATS || a.r#type == attribute_type::UNDEFINED => {
            &a.floats
        }
        Some(a) => return Err(wrong_attr(n, node, a, "FLOATS")),
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(ModelError::NonFinite {
            context: format!("attribute `{name}` of node `{node}`"),
        });
    }
    Ok(v)
}

pub(crate) fn get_string<'n>(
    n: &'n NodeProto,
    name: &str,
    default: &'n [u8],
    node: &str,
) -> Result<&'n [u8]> {
    match attr(n, name) {
        None => Ok(default),
        Some(a) if a.r#type == attribute_type::STRING || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.s)
        }
        Some(a) => Err(wrong_attr(n, node, a, "STRING")),
    }
}

pub(crate) fn get_strings<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [Vec<u8>]> {
    match attr(n, name) {
        None => Ok(&[]),
        Some(a) if a.r#type == ATTR_STRINGS || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.strings)
        }
        Some(a) => Err(wrong_attr(n, node, a, "STRINGS")),
    }
}

pub(crate) fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn wrong_attr(n: &NodeProto, node: &str, a: &AttributeProto, want: &str) -> ModelError {
    ModelError::Unsupported {
        op: op_label(n),
        node: node.into(),
        reason: format!(
            "attribute `{}` has type {}, expected {want}",
            a.name, a.r#type
        ),
    }
}

pub(crate) fn get_int(n: &NodeProto, name: &str, default: i64, node: &str) -> Result<i64> {
    match attr(n, name) {
        None => Ok(default),
        Some(a) if a.r#type == attribute_type::INT || a.r#type == attribute_type::UNDEFINED => {
            Ok(a.i)
        }
        Some(a) => Err(wrong_attr(n, node, a, "INT")),
    }
}

pub(crate) fn get_float(n: &NodeProto, name: &str, default: f32, node: &str) -> Result<f32> {
    let v = match attr(n, name) {
        None => default,
        Some(a) if a.r#type == attribute_type::FLOAT || a.r#type == attribute_type::UNDEFINED => {
            a.f
        }
        Some(a) => return Err(wrong_attr(n, node, a, "FLOAT")),
    };
    if !v.is_finite() {
        return Err(ModelError::NonFinite {
            context: format!("attribute `{name}` of node `{node}`"),
        });
    }
    Ok(v)
}
