//! A `Normalizer` in front of a model: each sample divided by its own norm, which depends on all
//! of its features, so it folds into no layer. It becomes part of the committed input encoding
//! instead ([`InputEncoding::Normalized`]): the rest of the graph is lowered as if it read the
//! normalized sample, and the prover and the auditor's `verify --inputs` both normalize raw
//! samples with the arithmetic `glassbox_air::Norm` defines (as a PCA in front of trees is a
//! committed projection).

use crate::error::Result;
use crate::ir::graph::{Graph, Op, Operand};
use crate::ir::scores::Norm;
use crate::quant::encoding::InputEncoding;
use crate::quant::fidelity::FidelityReport;
use crate::quant::model::QuantizedModel;

/// If the graph's input is read by a `Normalizer` alone, its norm and the graph with that node
/// an identity `Scaler` (so that the model behind it is lowered as behind preprocessing: its raw
/// features encoded per feature, which the normalized features, of very different ranges, need);
/// otherwise `None`.
pub(crate) fn input_normalizer(graph: &Graph) -> Option<(Norm, Graph)> {
    let reads_input = |n: &crate::ir::graph::Node| n.inputs.contains(&Operand::Value(0));
    let mut readers = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| reads_input(n));
    let (k, node) = readers.next()?;
    if readers.next().is_some() || node.inputs != [Operand::Value(0)] {
        return None;
    }
    let Op::Normalizer { norm } = node.op else {
        return None;
    };
    let width = graph.input_len;
    let mut rest = graph.clone();
    rest.nodes[k].op = Op::Scaler {
        offset: vec![0.0; width],
        scale: vec![1.0; width],
    };
    rest.nodes[k].op_type = "Scaler".into();
    Some((norm, rest))
}

/// Lowers `graph`, whose input a `Normalizer` reads, with `lower` (the whole compiler) applied
/// to the rest on normalized calibration samples, and wraps the model's input encoding.
///
/// # Errors
/// Whatever lowering the rest returns; [`crate::ModelError::InvalidModel`] if the rest's
/// encoding cannot be normalized (image boxes, projections).
pub(crate) fn lower_normalized(
    norm: Norm,
    rest: &Graph,
    calibration: Option<&[Vec<f32>]>,
    lower: impl Fn(&Graph, Option<&[Vec<f32>]>) -> Result<(QuantizedModel, Option<FidelityReport>)>,
) -> Result<(QuantizedModel, Option<FidelityReport>)> {
    let normalized: Option<Vec<Vec<f32>>> =
        calibration.map(|c| c.iter().map(|s| norm.apply(s)).collect());
    let (mut q, report) = lower(rest, normalized.as_deref())?;
    let inner = std::mem::replace(&mut q.input_encoding, InputEncoding::Symmetric);
    q.input_encoding = InputEncoding::Normalized {
        norm: norm.air(),
        inner: Box::new(inner),
    };
    q.validate()?;
    Ok((q, report))
}
