//! Block-diagonal layers found in dense ones: a layer whose outputs each read only their own
//! slice of the inputs is stored with [`QuantizedDense::groups`], so its zeros cost no trace
//! cells. The integer semantics are unchanged (the dropped weights are zeros).

use crate::quant::model::{QuantizedDense, QuantizedModel};

/// Rewrites every dense layer that is block-diagonal into its grouped form (the most groups
/// whose input slices are a power of two wide).
pub(crate) fn compact_groups(q: &mut QuantizedModel) {
    for layer in &mut q.layers {
        if layer.groups != 1 || layer.conv.is_some() {
            continue;
        }
        let mut c = 1usize;
        while c < layer.n_in {
            if layer.n_in.is_multiple_of(c) {
                let g = layer.n_in / c;
                if g > 1 && layer.n_out.is_multiple_of(g) && is_block_diagonal(layer, g) {
                    *layer = grouped(layer, g);
                    break;
                }
            }
            c *= 2;
        }
    }
}

/// Whether output `i` of group `i / (n_out/g)` reads nothing outside its `n_in/g` inputs.
fn is_block_diagonal(l: &QuantizedDense, g: usize) -> bool {
    let (c, per) = (l.n_in / g, l.n_out / g);
    l.weights.chunks(l.n_in).enumerate().all(|(i, row)| {
        let group = i / per;
        row.iter()
            .enumerate()
            .all(|(j, &w)| w == 0 || j / c == group)
    })
}

fn grouped(l: &QuantizedDense, g: usize) -> QuantizedDense {
    let (c, per) = (l.n_in / g, l.n_out / g);
    let weights = l
        .weights
        .chunks(l.n_in)
        .enumerate()
        .flat_map(|(i, row)| {
            let start = (i / per) * c;
            row[start..start + c].iter().copied()
        })
        .collect();
    QuantizedDense {
        weights,
        groups: g,
        ..l.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::encoding::InputEncoding;

    fn model(weights: Vec<i8>, n_in: usize, n_out: usize) -> QuantizedModel {
        QuantizedModel {
            name: String::new(),
            input_len: n_in,
            input_scale: 1.0,
            input_encoding: InputEncoding::Symmetric,
            layers: vec![QuantizedDense {
                n_in,
                n_out,
                weights,
                bias: vec![1; n_out],
                multiplier: None,
                groups: 1,
                conv: None,
                patch: None,
                table: None,
            }],
            output_scale: 1.0,
            classifier: false,
            proof_batch: None,
        }
    }

    #[test]
    fn a_block_diagonal_layer_is_grouped_with_the_same_outputs() {
        // 4 inputs, 8 outputs: output i reads input i / 2 only
        let mut w = vec![0i8; 32];
        for i in 0..8 {
            w[i * 4 + i / 2] = (i as i8) - 3;
        }
        let dense = model(w, 4, 8);
        let mut q = dense.clone();
        compact_groups(&mut q);
        assert_eq!(q.layers[0].groups, 4);
        assert_eq!(q.layers[0].weights.len(), 8);
        let x = vec![vec![5, -7, 11, 127]];
        let out = |m: &QuantizedModel| m.run(&x).map(|e| e[0].outputs.clone());
        assert_eq!(out(&q).ok(), out(&dense).ok());
        // a dense layer stays dense
        let mut full = model(vec![1; 32], 4, 8);
        compact_groups(&mut full);
        assert_eq!(full.layers[0].groups, 1);
    }
}
