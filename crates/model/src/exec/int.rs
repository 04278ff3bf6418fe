//! The integer reference executor: the bit-exact specification of a [`QuantizedModel`].

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::exec::int_layers::{execute_layers, IntLayer, Recorder};
use crate::quant::model::QuantizedModel;
use crate::quant::requant::Requantized;

/// What one layer did for one sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerExecution {
    /// The layer's input vector (int8 inputs for layer 0, u8 activations after).
    pub input: Vec<i64>,
    /// `acc_i = Σ_j W_ij x_j + b_i`.
    pub acc: Vec<i64>,
    /// For hidden layers, the requantization of each accumulator; `None` for the last layer.
    pub requantized: Option<Vec<Requantized>>,
}

/// The full record of one sample's integer inference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// Per-layer records, first to last.
    pub layers: Vec<LayerExecution>,
    /// The last layer's accumulators (the integer logits).
    pub outputs: Vec<i64>,
    /// Index of the first maximum of `outputs`.
    pub label: usize,
}

/// Records every layer as a [`LayerExecution`].
impl Recorder for Vec<LayerExecution> {
    fn layer(
        &mut self,
        _: usize,
        _: &IntLayer<'_>,
        input: &[i64],
        acc: &[i64],
        requantized: Option<&[Requantized]>,
    ) {
        self.push(LayerExecution {
            input: input.to_vec(),
            acc: acc.to_vec(),
            requantized: requantized.map(<[Requantized]>::to_vec),
        });
    }
}

/// Index of the first maximum (0 for an empty slice).
pub fn first_argmax(values: &[i64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if values.get(best).is_some_and(|b| v > b) {
            best = i;
        }
    }
    best
}

impl QuantizedModel {
    /// Encodes one float sample of [`QuantizedModel::raw_input_len`] features with the model's
    /// [`InputEncoding`](crate::InputEncoding) (for MLPs: `clamp(round_half_away_from_zero(x /
    /// input_scale), -128, 127)`).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] or [`ModelError::NonFinite`].
    pub fn quantize_input(&self, input: &[f32]) -> Result<Vec<i64>> {
        if input.len() != self.raw_input_len() {
            return Err(ModelError::InputLength {
                expected: self.raw_input_len(),
                got: input.len(),
            });
        }
        crate::quant::encoding::encode(&self.input_encoding, input, self.input_scale)
    }

    /// Runs a batch of quantized inputs through the integer semantics, recording every layer.
    ///
    /// Deterministic bit for bit on every platform (only `i64` arithmetic, checked).
    ///
    /// # Errors
    /// [`ModelError::InputLength`], [`ModelError::InputOutOfRange`] for values outside `-128..=127`,
    /// [`ModelError::ActivationOverflow`], or any [`QuantizedModel::validate`] error.
    pub fn run(&self, inputs: &[Vec<i64>]) -> Result<Vec<Execution>> {
        self.validate()?;
        let layers = self.int_layers();
        let mut out = Vec::with_capacity(inputs.len());
        for (s, x) in inputs.iter().enumerate() {
            if x.len() != self.input_len {
                return Err(ModelError::InputLength {
                    expected: self.input_len,
                    got: x.len(),
                });
            }
            if let Some((index, &value)) = x
                .iter()
                .enumerate()
                .find(|(_, v)| !(-128..=127).contains(*v))
            {
                return Err(ModelError::InputOutOfRange {
                    sample: s,
                    index,
                    value,
                });
            }
            let mut record = Vec::with_capacity(layers.len());
            let outputs = execute_layers(&layers, x, &mut record)?;
            let label = first_argmax(&outputs);
            out.push(Execution {
                layers: record,
                outputs,
                label,
            });
        }
        Ok(out)
    }

    /// The layers as the integer executor reads them.
    pub fn int_layers(&self) -> Vec<IntLayer<'_>> {
        self.layers
            .iter()
            .map(|l| IntLayer {
                n_in: l.n_in,
                n_out: l.n_out,
                groups: l.groups,
                weights: &l.weights,
                bias: &l.bias,
                multiplier: l.multiplier,
                patch: l.patch.as_ref().map(|g| crate::exec::int_layers::PatchOp {
                    plane: g.plane,
                    out_channels: g.out_channels,
                    order: crate::exec::int_layers::PatchOrder::List(&g.out_order),
                    pooled: g.pooled,
                    linear: g.linear,
                }),
                table: l.table.as_deref(),
            })
            .collect()
    }

    /// Convenience: quantizes float samples and runs them.
    ///
    /// # Errors
    /// As [`QuantizedModel::quantize_input`] and [`QuantizedModel::run`].
    pub fn run_f32(&self, samples: &[Vec<f32>]) -> Result<Vec<Execution>> {
        let q = samples
            .iter()
            .map(|s| self.quantize_input(s))
            .collect::<Result<Vec<_>>>()?;
        self.run(&q)
    }

    /// Dequantized logits of an execution: `outputs[i] as f64 * output_scale`.
    pub fn dequantize_outputs(&self, exec: &Execution) -> Vec<f64> {
        exec.outputs
            .iter()
            .map(|&o| o as f64 * self.output_scale)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::model::QuantizedDense;

    fn tiny() -> QuantizedModel {
        QuantizedModel {
            name: "tiny".into(),
            input_len: 2,
            input_scale: 0.5,
            input_encoding: crate::quant::encoding::InputEncoding::Symmetric,
            layers: vec![
                QuantizedDense {
                    n_in: 2,
                    n_out: 2,
                    weights: vec![1, 2, -3, 4],
                    bias: vec![10, -100],
                    multiplier: Some(1 << 15),
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
                QuantizedDense {
                    n_in: 2,
                    n_out: 2,
                    weights: vec![1, 0, 0, 1],
                    bias: vec![0, 0],
                    multiplier: None,
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
            ],
            output_scale: 1.0,
            classifier: true,
            proof_batch: None,
        }
    }

    #[test]
    fn hand_computed_execution() {
        let m = tiny();
        assert_eq!(m.quantize_input(&[1.25, -0.75]).unwrap(), vec![3, -2]); // 2.5 → 3, -1.5 → -2
        let e = &m.run(&[vec![3, -2]]).unwrap()[0];
        // acc0 = 3 - 4 + 10 = 9 → t = round(4.5) = 5; acc1 = -9 - 8 - 100 = -117 → t = -58 → 0.
        assert_eq!(e.layers[0].acc, vec![9, -117]);
        let rq = e.layers[0].requantized.as_ref().unwrap();
        assert_eq!((rq[0].t, rq[0].x, rq[1].t, rq[1].x), (5, 5, -58, 0));
        assert_eq!(e.outputs, vec![5, 0]);
        assert_eq!(e.label, 0);
    }

    #[test]
    fn input_errors() {
        let m = tiny();
        assert!(matches!(
            m.quantize_input(&[1.0]),
            Err(ModelError::InputLength {
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            m.quantize_input(&[f32::NAN, 0.0]),
            Err(ModelError::NonFinite { .. })
        ));
        assert!(matches!(
            m.quantize_input(&[f32::INFINITY, 0.0]),
            Err(ModelError::NonFinite { .. })
        ));
        assert!(matches!(
            m.run(&[vec![0, 128]]),
            Err(ModelError::InputOutOfRange {
                sample: 0,
                index: 1,
                value: 128
            })
        ));
        assert_eq!(
            m.quantize_input(&[1000.0, -1000.0]).unwrap(),
            vec![127, -128]
        );
    }

    #[test]
    fn first_maximum_wins() {
        assert_eq!(first_argmax(&[1, 5, 5, 2]), 1);
        assert_eq!(first_argmax(&[]), 0);
    }
}
