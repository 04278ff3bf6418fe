//! Affine preprocessing in front of a dense network (`StandardScaler` + `MLPClassifier`, a PCA
//! before an MLP): the prefix is read off the graph ([`affine_prefix`]), folded into the first
//! layer, and the raw features are encoded per feature, as for linear models and SVMs. The
//! digest then commits the preprocessing with the weights.

use crate::error::Result;
use crate::ir::graph::{Graph, Op, Operand};
use crate::lower::dense::{FloatDense, FloatMlp};
use crate::lower::smooth::expand::expand;
use crate::lower::tabular::linear::{affine_encoding, to_codes};
use crate::lower::tabular::prefix::{affine_prefix, check_affine, is_affine};
use crate::quant::calibrate::quantize_codes;
use crate::quant::encoding::InputEncoding;
use crate::quant::fidelity::{fidelity_against, FidelityReport};
use crate::quant::model::QuantizedModel;

/// Lowers a dense network behind affine preprocessing; `Ok(None)` if the first dense layer
/// reads the graph input itself (an ordinary MLP) or the graph has none.
///
/// # Errors
/// [`crate::ModelError::Unsupported`] naming a prefix step that is not affine (a `Normalizer`
/// before the first layer among them); the errors of the dense lowering and quantization.
pub(crate) fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    // the first dense layer is the last product before the first nonlinearity: the affine
    // steps before it (a PCA's MatMul among them) are the prefix
    let affine_run = graph
        .nodes
        .iter()
        .take(graph.logits)
        .take_while(|n| is_affine(n))
        .count();
    let first = graph.nodes[..affine_run]
        .iter()
        .rev()
        .find(|n| matches!(n.op, Op::Gemm { .. } | Op::MatMul));
    // a Normalizer before the first product cannot fold: name it (the MLP lowering would
    // otherwise stop on it without saying why)
    let first_product = graph
        .nodes
        .iter()
        .position(|n| matches!(n.op, Op::Gemm { .. } | Op::MatMul));
    let before = &graph.nodes[..first_product.unwrap_or(0)];
    if before.iter().any(|n| matches!(n.op, Op::Normalizer { .. })) {
        check_affine(graph, before.len())?;
    }
    let start = match first.and_then(|n| n.inputs.first()) {
        Some(&Operand::Value(v)) if v > 0 => v,
        _ => return Ok(None),
    };
    // casts and reshapes only: an ordinary MLP, encoded with one input scale
    let plumbing = |op: &Op| matches!(op, Op::Identity | Op::Flatten { .. } | Op::Reshape { .. });
    if graph.nodes[..start - 1].iter().all(|n| plumbing(&n.op)) {
        return Ok(None);
    }
    let prefix = affine_prefix(graph, start)?;
    let mlp = FloatMlp::from_graph_at(graph, start, prefix.n_out)?;
    let n = prefix.n_in;
    let (offset, step) = affine_encoding(n, calibration)?;
    let over_codes = prefix.over_codes(&offset, &step);
    let mut layers = mlp.layers.clone();
    let l0 = &mlp.layers[0];
    let rows: Vec<f64> = l0.weights.iter().map(|&w| f64::from(w)).collect();
    let bias: Vec<f64> = l0.bias.iter().map(|&b| f64::from(b)).collect();
    let (rows, bias) = over_codes.fold(&rows, &bias);
    layers[0] = FloatDense {
        n_in: n,
        weights: rows.iter().map(|&w| w as f32).collect(),
        bias: bias.iter().map(|&b| b as f32).collect(),
        ..l0.clone()
    };
    let folded = FloatMlp {
        input_len: n,
        layers,
        ..mlp
    };
    folded.validate()?;
    let codes = to_codes(calibration, &offset, &step);
    let samples = (!codes.is_empty()).then_some(codes.as_slice());
    let (proven, activations) = expand(&folded, samples)?;
    let mut q = quantize_codes(&proven, samples)?;
    q.input_encoding = InputEncoding::Affine { offset, step };
    q.input_scale = 1.0;
    q.name.clone_from(&graph.name);
    q.validate()?;
    let report = calibration
        .filter(|c| !c.is_empty())
        .map(|c| {
            fidelity_against(&q, c, |x| {
                Ok(graph.run_f32(x)?.into_iter().map(f64::from).collect())
            })
            .map(|r| FidelityReport { activations, ..r })
        })
        .transpose()?;
    Ok(Some((q, report)))
}
