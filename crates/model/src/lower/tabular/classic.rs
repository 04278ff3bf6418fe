//! Recognition of a classic model in a graph ([`ClassicModel`]), its decision function, and the
//! lowering entry point for tabular graphs.

use crate::error::{ModelError, Result};
use crate::ir::graph::{Graph, Op, Operand};
use crate::ir::linear::LinearModel;
use crate::ir::svm::SvmModel;
use crate::ir::tree::TreeEnsemble;
use crate::lower::tabular::head::Head;
use crate::lower::tabular::linear::lower_linear;
use crate::lower::tabular::prefix::{affine_prefix, AffinePrefix};
use crate::lower::tabular::preprocessed::lower_preprocessed_trees;
use crate::lower::tabular::svm::lower_svm;
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
    /// A one-vs-one SVM classifier.
    Svm(&'a SvmModel),
}

impl<'a> ClassicModel<'a> {
    /// The classic model that produces the graph's logits, if the graph has one.
    ///
    /// # Errors
    /// [`ModelError::InvalidGraph`] for a model node that reads a constant.
    pub fn find(graph: &'a Graph) -> Result<Option<Self>> {
        Ok(Self::find_with_input(graph)?.map(|(m, _)| m))
    }

    /// [`ClassicModel::find`] and the graph value the model reads (`0`: the raw input).
    fn find_with_input(graph: &'a Graph) -> Result<Option<(Self, usize)>> {
        let Some(node) = graph.logits.checked_sub(1).and_then(|k| graph.nodes.get(k)) else {
            return Ok(None);
        };
        let model = match &node.op {
            Op::TreeEnsemble(t) => Self::Trees(t),
            Op::Linear(l) => Self::Linear(l),
            Op::Svm(m) => Self::Svm(m),
            _ => return Ok(None),
        };
        let input = match node.inputs.first() {
            Some(&Operand::Value(v)) => v,
            _ => {
                return Err(ModelError::InvalidGraph(format!(
                    "{} node `{}` does not read the input",
                    node.op_type, node.name
                )))
            }
        };
        Ok(Some((model, input)))
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
            Self::Svm(m) => return Ok(m.outputs(x)),
        };
        Ok(head.apply(&raw))
    }

    fn check_input(&self, x: &[f32]) -> Result<()> {
        let expected = match self {
            Self::Trees(t) => t.n_features,
            Self::Linear(l) => l.n_features,
            Self::Svm(m) => m.n_features,
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
            Self::Svm(m) => m.label(x),
        })
    }
}

/// Lowers the classic model of `graph`, if it has one; `Ok(None)` for other graphs.
///
/// Calibration samples set the linear models' per-feature ranges (trees need none) and give the
/// fidelity report (label agreement with the float model and the score error). Preprocessing in
/// front of the model is folded (see [`preprocessed`](super::preprocessed) for trees).
///
/// # Errors
/// [`ModelError::Unsupported`] for what the lowering cannot express (a feature with more than
/// [`MAX_CUTS_PER_FEATURE`] thresholds, `MIN`/`MAX` aggregation, a path weight outside int8,
/// preprocessing that is not affine such as a `Normalizer`), [`ModelError::BiasOverflow`], and
/// errors of the float model on calibration samples.
pub(crate) fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    let Some((model, input)) = ClassicModel::find_with_input(graph)? else {
        return Ok(None);
    };
    let samples = calibration.filter(|c| !c.is_empty());
    let mut activations = Vec::new();
    let mut q = match model {
        ClassicModel::Trees(t) if input == 0 => lower_trees(t)?,
        ClassicModel::Trees(t) => lower_preprocessed_trees(graph, input, t, samples)?,
        ClassicModel::Linear(l) if input == 0 => lower_linear(l, samples)?,
        ClassicModel::Linear(l) => {
            lower_linear(&folded_linear(l, &affine_prefix(graph, input)?)?, samples)?
        }
        ClassicModel::Svm(m) => {
            let (q, fits) = lower_svm(m, &affine_prefix(graph, input)?, samples)?;
            activations = fits;
            q
        }
    };
    q.name.clone_from(&graph.name);
    q.validate()?;
    let report = samples
        .map(|s| {
            fidelity_against(&q, s, |x| {
                let z = graph.run_value(x, input)?;
                model.decision(&z)
            })
            .map(|r| FidelityReport { activations, ..r })
        })
        .transpose()?;
    Ok(Some((q, report)))
}

/// A linear model behind preprocessing, as a linear model of the raw features.
fn folded_linear(l: &LinearModel, prefix: &AffinePrefix) -> Result<LinearModel> {
    l.validate()?;
    let rows: Vec<f64> = l.coefficients.iter().map(|&c| f64::from(c)).collect();
    let b: Vec<f64> = l.intercepts.iter().map(|&c| f64::from(c)).collect();
    let (rows, b) = prefix.fold(&rows, &b);
    let folded = LinearModel {
        n_features: prefix.n_in,
        coefficients: rows.iter().map(|&v| v as f32).collect(),
        intercepts: b.iter().map(|&v| v as f32).collect(),
        ..l.clone()
    };
    folded.validate()?;
    Ok(folded)
}
