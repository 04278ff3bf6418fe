//! Proptest strategies shared by the model crate's property tests.

use std::ops::{Range, RangeInclusive};

use glassbox_model::QuantizedDense;
use proptest::prelude::*;

/// Dense layers of the given widths: random int8 weights, biases drawn from `bias`, and a
/// multiplier from `multiplier` on every layer but the last.
pub fn layers(
    widths: &[usize],
    bias: Range<i64>,
    multiplier: RangeInclusive<u32>,
) -> Vec<BoxedStrategy<QuantizedDense>> {
    let n = widths.len() - 1;
    widths
        .windows(2)
        .enumerate()
        .map(|(l, w)| {
            let (n_in, n_out) = (w[0], w[1]);
            (
                prop::collection::vec(any::<i8>(), n_in * n_out),
                prop::collection::vec(bias.clone(), n_out),
                if l + 1 < n {
                    multiplier.clone().prop_map(Some).boxed()
                } else {
                    Just(None).boxed()
                },
            )
                .prop_map(move |(weights, bias, multiplier)| QuantizedDense {
                    n_in,
                    n_out,
                    weights,
                    bias,
                    multiplier,
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                })
                .boxed()
        })
        .collect()
}
