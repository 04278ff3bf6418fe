//! Clearing the spare cells of a box that a padded convolution reads next: by biases no input
//! overcomes, or, where such a bias would leave the requantization's provable range, by a mask
//! layer after the convolution (see `PatchStage::clear`).

use crate::quant::model::{QuantizedDense, BIAS_LIMIT};

/// Gives every output row of patch `layer` that feeds a spare cell (`clear` is 0 on its
/// value: its window's, if pooled) a bias so negative that no input in `inputs` lifts its
/// accumulator to 0, so its activation is 0 (and so is its window's maximum). False, with the
/// layer unchanged, if some such bias would take the requantized value below the provable range
/// (`t ≥ −2^16`) for some input.
pub(crate) fn clear_by_bias(
    layer: &mut QuantizedDense,
    clear: &[f64],
    (x_lo, x_hi): (i64, i64),
) -> bool {
    let (Some(patch), Some(m)) = (&layer.patch, layer.multiplier) else {
        return false;
    };
    let window = patch.window();
    // per output channel: the accumulator's range over every input, without the bias
    let ranges: Vec<(i64, i64)> = layer
        .weights
        .chunks(layer.n_in.max(1))
        .map(|row| {
            row.iter().fold((0i64, 0i64), |(lo, hi), &w| {
                let w = i64::from(w);
                let (a, b) = (w * x_lo, w * x_hi);
                (lo + a.min(b), hi + a.max(b))
            })
        })
        .collect();
    let mut bias = layer.bias.clone();
    for (r, b) in bias.iter_mut().enumerate() {
        if clear.get(r / window).copied().unwrap_or(1.0) != 0.0 {
            continue;
        }
        let natural = patch.out_order.get(r).map_or(0, |&i| i as usize);
        let Some(&(lo, hi)) = ranges.get(natural / patch.plane.max(1)) else {
            return false;
        };
        // acc ∈ [lo − hi − 1, −1]: requantized to t ≤ 0 (activation 0), and t ≥ −2^16 needs
        // (hi − lo + 1)·M ≤ 2^32 (with the rounding half)
        let span = (hi - lo + 1).saturating_mul(i64::from(m));
        if span > (1i64 << 32) || hi + 1 >= BIAS_LIMIT {
            return false;
        }
        *b = -(hi + 1);
    }
    layer.bias = bias;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::model::PatchGeometry;

    /// A pooled 2-plane patch layer (plane 4, one window per plane) whose second window is
    /// spare: weights `w`, multiplier `m`.
    fn pooled(w: i8, m: u32) -> QuantizedDense {
        QuantizedDense {
            n_in: 4,
            n_out: 8,
            weights: vec![w; 8],
            bias: vec![5; 8],
            multiplier: Some(m),
            groups: 1,
            conv: None,
            patch: Some(PatchGeometry {
                planes: 1,
                plane: 4,
                out_channels: 2,
                out_order: (0..8).collect(),
                pooled: true,
                linear: false,
            }),
            table: None,
        }
    }

    #[test]
    fn spare_outputs_get_a_bias_no_input_overcomes_or_a_mask_layer() {
        // inputs 0..=255, weights 3 and −2: channel sums in [0, 3060] and [−2040, 0]
        let mut layer = pooled(3, 1 << 15);
        layer.weights[4..].iter_mut().for_each(|w| *w = -2);
        assert!(clear_by_bias(&mut layer, &[1.0, 0.0], (0, 255)));
        // the kept window's rows keep their bias, the spare window's get −(hi + 1)
        assert_eq!(layer.bias, [5, 5, 5, 5, -1, -1, -1, -1]);
        let mut layer = pooled(3, 1 << 15);
        assert!(clear_by_bias(&mut layer, &[0.0, 1.0], (0, 255)));
        assert_eq!(&layer.bias[..4], &[-3061; 4]);
        // every input now requantizes to 0 there: the worst accumulator stays provable
        for acc in [-3061 - 3060, -3061, -1] {
            let r = crate::quant::requant::requantize_at(acc, 1 << 15, 0, 0).unwrap();
            assert_eq!(r.x, 0);
        }
        // a multiplier that would take t below −2^16: the layer is unchanged (the quantizer adds
        // a mask layer after it instead)
        let mut big = pooled(127, 1 << 23);
        assert!(!clear_by_bias(&mut big, &[0.0, 1.0], (0, 255)));
        assert_eq!(big.bias, [5; 8]);
    }
}
