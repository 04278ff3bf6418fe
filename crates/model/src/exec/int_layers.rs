//! The integer semantics of one sample, layer by layer, with a [`Recorder`] that sees every value.
//!
//! This is the one integer executor: [`QuantizedModel::run`](crate::QuantizedModel::run) records
//! [`Execution`](crate::Execution)s with it, and the trace builder (`glassbox-trace`) records the
//! values its trace columns hold, so the specification and the proven trace cannot drift.

use crate::error::{ModelError, Result};
use crate::exec::patch::{accumulate_patch, Layer as PatchLayer};
pub use crate::exec::patch::{PatchOp, PatchOrder};
use crate::quant::requant::{requantize_at, Requantized};

/// One integer layer as the executor reads it.
#[derive(Debug, Clone, Copy)]
pub struct IntLayer<'a> {
    /// Input width.
    pub n_in: usize,
    /// Output width.
    pub n_out: usize,
    /// Block-diagonal groups (1: dense): output `i` reads only the inputs of its group
    /// `i / (n_out / groups)`.
    pub groups: usize,
    /// Row-major `[n_out][n_in / groups]` int8 weights.
    pub weights: &'a [i8],
    /// One bias per output.
    pub bias: &'a [i64],
    /// The requantization multiplier of a hidden layer; `None` for the last layer.
    pub multiplier: Option<u32>,
    /// `Some` for a patch layer: `weights` are then its kernel rows (`[O][n_in]`).
    pub patch: Option<PatchOp<'a>>,
    /// A hidden layer's activation table: the next layer reads `table[x]` (256 values).
    pub table: Option<&'a [i64]>,
}

/// Sees what [`execute_layers`] computes, one call per layer, in order.
pub trait Recorder {
    /// Layer `index` read `input`, accumulated `acc` (`acc_i = Σ_j W_ij · x_j + b_i`) and, if it is
    /// a hidden layer, requantized each accumulator (`requantized`, one per output).
    fn layer(
        &mut self,
        index: usize,
        layer: &IntLayer<'_>,
        input: &[i64],
        acc: &[i64],
        requantized: Option<&[Requantized]>,
    );
}

/// A [`Recorder`] that keeps nothing.
impl Recorder for () {
    fn layer(
        &mut self,
        _: usize,
        _: &IntLayer<'_>,
        _: &[i64],
        _: &[i64],
        _: Option<&[Requantized]>,
    ) {
    }
}

/// The accumulators `acc_i = Σ_j W_ij · x_j + b_i` of `layer` on `x` (block-diagonal when
/// `groups > 1`).
///
/// # Errors
/// [`ModelError::InvalidModel`] if the widths, groups, weights or biases do not fit together.
pub fn accumulate(layer: &IntLayer<'_>, x: &[i64]) -> Result<Vec<i64>> {
    if let Some(op) = &layer.patch {
        let l = PatchLayer {
            n_in: layer.n_in,
            n_out: layer.n_out,
            weights: layer.weights,
            bias: layer.bias,
        };
        return accumulate_patch(l, op, x);
    }
    let g = layer.groups;
    let fits = g > 0
        && layer.n_in.is_multiple_of(g)
        && layer.n_out.is_multiple_of(g)
        && x.len() == layer.n_in
        && layer.bias.len() == layer.n_out
        && layer.weights.len() == layer.n_out * (layer.n_in / g);
    if !fits || layer.n_out < g {
        return Err(ModelError::InvalidModel(format!(
            "layer of {} inputs, {} outputs and {g} groups does not fit {} inputs, {} weights, {} biases",
            layer.n_in,
            layer.n_out,
            x.len(),
            layer.weights.len(),
            layer.bias.len()
        )));
    }
    let (c, m) = (layer.n_in / g, layer.n_out / g);
    // |W| <= 128, |x| <= 255, n_in <= 2^20, |b| < 2^31 on a validated model: |acc| < 2^46.
    Ok(layer
        .bias
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let row = &layer.weights[i * c..(i + 1) * c];
            let xs = &x[(i / m) * c..(i / m + 1) * c];
            row.iter()
                .zip(xs)
                .map(|(&w, &x)| i64::from(w) * x)
                .sum::<i64>()
                + b
        })
        .collect())
}

/// Runs one int8 sample through `layers`, telling `recorder` every layer's input, accumulators and
/// requantization, and returns the last layer's accumulators (the integer logits).
///
/// Inputs are not range-checked here (callers check `-128..=127` and report the sample).
///
/// # Errors
/// As [`accumulate`]; [`ModelError::ActivationOverflow`] (with the layer and output index),
/// [`ModelError::InvalidMultiplier`] or [`ModelError::ArithmeticOverflow`] from requantization.
pub fn execute_layers(
    layers: &[IntLayer<'_>],
    input: &[i64],
    recorder: &mut impl Recorder,
) -> Result<Vec<i64>> {
    let mut x = input.to_vec();
    for (li, layer) in layers.iter().enumerate() {
        let acc = accumulate(layer, &x)?;
        match layer.multiplier {
            Some(m) => {
                let rq = acc
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| requantize_at(a, m, li, i))
                    .collect::<Result<Vec<_>>>()?;
                recorder.layer(li, layer, &x, &acc, Some(&rq));
                x = rq.iter().map(|r| through_table(layer.table, r.x)).collect();
                if layer.patch.is_some_and(|p| p.pooled) {
                    x = max_pool(&x);
                }
            }
            None => {
                recorder.layer(li, layer, &x, &acc, None);
                x = acc;
            }
        }
    }
    Ok(x)
}

/// The maximum of each window of four consecutive values (a pooled patch layer's outputs as the
/// next layer reads them).
pub fn max_pool(x: &[i64]) -> Vec<i64> {
    x.chunks(glassbox_air::conv::POOL_WINDOW)
        .map(|w| w.iter().copied().max().unwrap_or(0))
        .collect()
}

/// `table[x]`, or `x` itself without a table (`x` is a clamped activation, `0..=255`).
pub fn through_table(table: Option<&[i64]>, x: i64) -> i64 {
    match table {
        Some(t) => usize::try_from(x)
            .ok()
            .and_then(|i| t.get(i))
            .map_or(0, |&v| v),
        None => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_layers_read_their_group_only_and_bad_shapes_are_errors() {
        // two groups of 2 inputs → 2 outputs each
        let weights = [1, 2, 3, 4, -1, -2, 5, 6];
        let layer = IntLayer {
            n_in: 4,
            n_out: 4,
            groups: 2,
            weights: &weights,
            bias: &[10, 0, 0, -1],
            multiplier: None,
            patch: None,
            table: None,
        };
        let acc = accumulate(&layer, &[1, 1, 2, 3]).unwrap();
        assert_eq!(acc, vec![13, 7, -8, 27]);
        assert!(accumulate(&layer, &[1, 1, 2]).is_err());
        let bad = IntLayer { groups: 3, ..layer };
        assert!(accumulate(&bad, &[1, 1, 2, 3]).is_err());
    }
}
