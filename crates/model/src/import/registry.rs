//! The op table: which family parses which ONNX op type.
//!
//! Every op of the default domain is named by exactly one [`Family`] in [`FAMILIES`]; the loader
//! looks the node's op type up here and hands the node to that family's parser, which returns the
//! [`Op`] to append (or absorbs the node). `ai.onnx.ml` nodes go to [`crate::import::ml`] (its ops
//! are listed in `ml::OPS`). An op nobody names is [`ModelError::Unsupported`], naming the op and
//! the node.

use crate::error::{ModelError, Result};
use crate::import::attrs::{node_name, op_label, unsupported_op};
use crate::import::loader::{Importer, Parsed};
use crate::import::ml::{import_ml, ML_DOMAIN};
use crate::import::onnx::NodeProto;
use crate::import::{constants, math, spatial};
use crate::ir::graph::{element_count, Op, Operand};

/// Parses one node of a family's op types.
pub(crate) type Parser = for<'a> fn(&mut Importer<'a>, &'a NodeProto, &str) -> Result<Parsed>;

/// A family of ONNX ops parsed by one file.
pub(crate) struct Family {
    /// The op types of the default ONNX domain it handles.
    pub(crate) ops: &'static [&'static str],
    /// Its parser.
    pub(crate) parse: Parser,
}

/// Every family of the default domain.
pub(crate) static FAMILIES: [Family; 3] = [
    Family {
        ops: constants::OPS,
        parse: constants::parse,
    },
    Family {
        ops: math::OPS,
        parse: math::parse,
    },
    Family {
        ops: spatial::OPS,
        parse: spatial::parse,
    },
];

/// The family that handles `op_type` of the default domain, if any.
pub(crate) fn family_of(op_type: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.ops.contains(&op_type))
}

impl<'a> Importer<'a> {
    pub(crate) fn import_node(&mut self, i: usize, n: &'a NodeProto) -> Result<()> {
        let name = node_name(i, n);
        let op_type = op_label(n);
        let unsupported = |reason: &str| ModelError::Unsupported {
            op: op_type.clone(),
            node: name.clone(),
            reason: reason.to_string(),
        };
        let mut out = n
            .output
            .first()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| ModelError::InvalidGraph(format!("node `{name}` has no output")))?;
        let standard = n.domain.is_empty() || n.domain == "ai.onnx";
        if n.domain == ML_DOMAIN && n.op_type == "ArrayFeatureExtractor" {
            let indices = n
                .input
                .get(1)
                .ok_or_else(|| unsupported("no indices input"))
                .and_then(|i| self.const_i64(i, &name))?
                .into_iter()
                .map(|v| usize::try_from(v).map_err(|_| unsupported("a negative index")))
                .collect::<Result<Vec<usize>>>()?;
            return self.push_node(name, op_type, Op::SelectFeatures { indices }, 1, n, out);
        }
        if n.domain == ML_DOMAIN {
            // behind preprocessing (a PCA, a feature selection) a model reads the width of the
            // value it is given, not the graph input's
            let width = match n.input.first().and_then(|i| self.env.get(i.as_str())) {
                Some(&Operand::Value(v)) if v > 0 => element_count(&self.value_shape(v)?)?,
                _ => self.input_len,
            };
            if let Some(op) = import_ml(n, &name, &op_type, width)? {
                if matches!(&op, Op::TreeEnsemble(t) if t.classes.is_some())
                    || matches!(&op, Op::Linear(l) if l.classes.is_some())
                    || matches!(&op, Op::Svm(m) if !m.is_regressor())
                {
                    // Outputs: (label, probabilities/scores). Only the float one is imported.
                    self.label_outputs.insert(out.clone(), name.clone());
                    out = n.output.get(1).filter(|o| !o.is_empty()).ok_or_else(|| {
                        ModelError::InvalidGraph(format!(
                            "{op_type} node `{name}` has no score output"
                        ))
                    })?;
                }
                return self.push_node(name, op_type, op, 1, n, out);
            }
        }
        if !standard {
            let reason = if n.domain == ML_DOMAIN {
                "ai.onnx.ml ops are only accepted in the stripped label plumbing, but this node feeds the chosen output"
            } else {
                "unknown op domain"
            };
            return Err(unsupported(reason));
        }
        let Some(family) = family_of(&n.op_type) else {
            return Err(unsupported_op(n, &name, "op not supported by glassbox"));
        };
        match (family.parse)(self, n, &name)? {
            Parsed::Node { op, inputs } => self.push_node(name, op_type, op, inputs, n, out),
            Parsed::Absorbed => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_exactly_one_family() {
        let mut seen: Vec<&str> = Vec::new();
        for (k, f) in FAMILIES.iter().enumerate() {
            for op in f.ops {
                assert!(!seen.contains(op), "{op} is named by two families");
                seen.push(op);
                assert!(family_of(op).is_some_and(|g| std::ptr::eq(g, &FAMILIES[k])));
            }
        }
        assert!(crate::import::ml::OPS
            .iter()
            .all(|op| family_of(op).is_none()));
        assert!(family_of("Sin").is_none());
    }
}
