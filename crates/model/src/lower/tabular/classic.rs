//! Recognition of a classic model in a graph ([`ClassicModel`]), its decision function, and the
//! lowering entry point for tabular graphs.

use crate::error::{ModelError, Result};
use crate::ir::graph::{Graph, Op, Operand};
use crate::ir::linear::LinearModel;
use crate::ir::tree::TreeEnsemble;
use crate::lower::tabular::head::Head;
use crate::lower::tabular::linear::lower_linear;
use crate::lower::tabular::trees::lower_trees;
use crate::quant::fidelity::{fidelity_against, FidelityReport};
use crate::quant::model::QuantizedModel;

/// A classic model found in a graph.
#[derive(Debug, Clone, Copy)]
pub enum ClassicModel<'a> {
    /// A tree ensemble.
    Trees(&'a TreeEnsemble),
    /// A linear model.
    Linear(&'a LinearModel),
}

impl<'a> ClassicModel<'a> {
    /// The classic model that produces the graph's logits, if the graph has one.
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] if it does not read the graph input directly (e.g. behind a
    /// `Scaler`).
    pub fn find(graph: &'a Graph) -> Result<Option<Self>> {
        let Some(node) = graph.logits.checked_sub(1).and_then(|k| graph.nodes.get(k)) else {
            return Ok(None);
        };
        let model = match &node.op {
            Op::TreeEnsemble(t) => Self::Trees(t),
            Op::Linear(l) => Self::Linear(l),
            _ => return Ok(None),
        };
        if node.inputs.first() != Some(&Operand::Value(0)) {
            return Err(ModelError::Unsupported {
                op: node.op_type.clone(),
                node: node.name.clone(),
                reason: "a classic model must read the graph input directly (no Scaler or \
                         other preprocessing in front of it yet)"
                    .into(),
            });
        }
        Ok(Some(model))
    }

    /// The float decision vector whose first maximum is the label (see the [module docs](self)).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] or [`ModelError::NonFinite`] for a bad sample, or an unsupported
    /// `post_transform`.
    pub fn decision(&self, x: &[f32]) -> Result<Vec<f64>> {
        self.check_input(x)?;
        let (raw, head) = match self {
            Self::Trees(t) => (t.raw_scores(x), Head::of_trees(t)?),
            Self::Linear(l) => (l.raw_scores(x), Head::of_linear(l)?),
        };
        Ok(head.apply(&raw))
    }

    fn check_input(&self, x: &[f32]) -> Result<()> {
        let expected = match self {
            Self::Trees(t) => t.n_features,
            Self::Linear(l) => l.n_features,
        };
        if x.len() != expected {
            return Err(ModelError::InputLength {
                expected,
                got: x.len(),
            });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "input sample".into(),
            });
        }
        Ok(())
    }

    /// The label index (into the class list) onnxruntime reports, from the float model.
    ///
    /// # Errors
    /// As [`ClassicModel::decision`].
    pub fn label(&self, x: &[f32]) -> Result<usize> {
        self.check_input(x)?;
        Ok(match self {
            Self::Trees(t) => t.label(x),
            Self::Linear(l) => l.label(x),
        })
    }
}

/// Lowers the classic model of `graph`, if it has one; `Ok(None)` for other graphs.
///
/// Calibration samples set the linear models' per-feature ranges (trees need none) and give the
/// fidelity report (label agreement with the float model and the score error).
///
/// # Errors
/// [`ModelError::Unsupported`] for what the lowering cannot express (a feature with more than
/// [`MAX_CUTS_PER_FEATURE`] thresholds, `MIN`/`MAX` aggregation, a path weight outside int8),
/// [`ModelError::BiasOverflow`], and errors of the float model on calibration samples.
pub(crate) fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    let Some(model) = ClassicModel::find(graph)? else {
        return Ok(None);
    };
    let samples = calibration.filter(|c| !c.is_empty());
    let mut q = match model {
        ClassicModel::Trees(t) => lower_trees(t)?,
        ClassicModel::Linear(l) => lower_linear(l, samples)?,
    };
    q.name.clone_from(&graph.name);
    q.validate()?;
    let report = samples
        .map(|s| classic_fidelity(&model, &q, s))
        .transpose()?;
    Ok(Some((q, report)))
}

/// Label agreement and score error of `q` against the float `model` on `data`.
///
/// # Errors
/// [`ModelError::InvalidModel`] for an empty data set; evaluation errors of either model.
pub(crate) fn classic_fidelity(
    model: &ClassicModel<'_>,
    q: &QuantizedModel,
    data: &[Vec<f32>],
) -> Result<FidelityReport> {
    fidelity_against(q, data, |x| model.decision(x))
}
