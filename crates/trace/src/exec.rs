//! The integer semantics the AIR proves, recorded lane by lane.
//!
//! The arithmetic is the model crate's integer executor ([`glassbox_model::execute_layers`], the
//! specification); this file only records what the trace needs (hidden layers padded to a power of
//! two) and maps its errors to the lane that raised them, so the trace cannot drift from it.

use glassbox_model::{execute_layers, IntLayer, ModelError, PatchOp, PatchOrder, Recorder};

use crate::error::CompileError;
use crate::program::Program;

pub use glassbox_model::Requantized;

/// Requantizes one accumulator with the model crate's reference semantics; `None` if `t` leaves
/// the provable range.
pub fn requantize(acc: i64, multiplier: u32) -> Option<Requantized> {
    glassbox_model::requantize(acc, multiplier).ok()
}

/// Every value of one batch: per lane (including the zero-input padding lanes), per hidden layer,
/// the requantized outputs (padded to the next power of two with zero accumulators), and the
/// final outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchExecution {
    /// `inputs[b]`: the int8 inputs of lane `b`.
    pub inputs: Vec<Vec<i64>>,
    /// `hidden[l][b][i]`: requantized output `i` of hidden layer `l` in lane `b`.
    pub hidden: Vec<Vec<Vec<Requantized>>>,
    /// `outputs[b]`: raw last-layer accumulators of lane `b`.
    pub outputs: Vec<Vec<i64>>,
    /// Number of real samples (the other lanes run the all-zero input).
    pub batch: usize,
}

/// One lane's hidden layers as the trace stores them: each requantized output, then the
/// requantization of a zero accumulator up to the next power of two.
#[derive(Default)]
struct Lane {
    hidden: Vec<Vec<Requantized>>,
    /// `(layer, index)` of a padding cell that did not requantize.
    fault: Option<(usize, usize)>,
}

impl Recorder for Lane {
    fn layer(
        &mut self,
        index: usize,
        layer: &IntLayer<'_>,
        _: &[i64],
        _: &[i64],
        requantized: Option<&[Requantized]>,
    ) {
        let (Some(rq), Some(m)) = (requantized, layer.multiplier) else {
            return;
        };
        let mut row = rq.to_vec();
        for i in rq.len()..layer.n_out.next_power_of_two() {
            match requantize(0, m) {
                Some(r) => row.push(r),
                None => {
                    self.fault.get_or_insert((index, i));
                }
            }
        }
        self.hidden.push(row);
    }
}

impl Program {
    /// The layers as the model crate's integer executor reads them.
    fn int_layers(&self) -> Vec<IntLayer<'_>> {
        self.descriptor
            .layers
            .iter()
            .zip(&self.weights)
            .map(|(d, w)| IntLayer {
                n_in: d.n_in,
                n_out: d.n_out,
                groups: d.groups,
                weights: w,
                bias: &d.bias,
                multiplier: d.multiplier,
                patch: d.patch.as_ref().map(|p| PatchOp {
                    plane: p.plane,
                    out_channels: p.out_channels,
                    order: PatchOrder::Digits(&p.out_order),
                    pooled: p.pooled,
                    linear: p.linear,
                }),
                table: d.table.as_ref().map(|t| t.values()),
            })
            .collect()
    }

    /// Runs `inputs` (int8 vectors) through the model in `lanes` lanes.
    ///
    /// # Errors
    /// Wrong input length, a value outside int8, or an activation outside the provable range.
    pub fn execute(
        &self,
        inputs: &[Vec<i64>],
        lanes: usize,
    ) -> Result<BatchExecution, CompileError> {
        let n_in = self.descriptor.input_len();
        let layers = self.int_layers();
        let mut exec = BatchExecution {
            inputs: Vec::with_capacity(lanes),
            hidden: vec![Vec::with_capacity(lanes); layers.len() - 1],
            outputs: Vec::with_capacity(lanes),
            batch: inputs.len(),
        };
        for b in 0..lanes {
            let x0 = match inputs.get(b) {
                Some(x) => {
                    if x.len() != n_in {
                        return Err(CompileError::InputLength {
                            sample: b,
                            expected: n_in,
                            got: x.len(),
                        });
                    }
                    if let Some(&v) = x.iter().find(|v| !(-128..=127).contains(*v)) {
                        return Err(CompileError::InputRange {
                            sample: b,
                            value: v,
                        });
                    }
                    x.clone()
                }
                None => vec![0; n_in],
            };
            let mut lane = Lane::default();
            let result = execute_layers(&layers, &x0, &mut lane);
            let outputs = result.map_err(|e| lane_error(b, &lane, &layers, e))?;
            if let Some((layer, index)) = lane.fault {
                return Err(CompileError::ActivationOverflow {
                    sample: b,
                    layer,
                    index,
                });
            }
            for (l, row) in lane.hidden.into_iter().enumerate() {
                if let Some(rows) = exec.hidden.get_mut(l) {
                    rows.push(row);
                }
            }
            exec.outputs.push(outputs);
            exec.inputs.push(x0);
        }
        Ok(exec)
    }
}

/// The error of lane `sample` for an executor error raised in the layer after those `lane` holds.
fn lane_error(sample: usize, lane: &Lane, layers: &[IntLayer<'_>], e: ModelError) -> CompileError {
    let layer = lane.hidden.len();
    match e {
        ModelError::ActivationOverflow { layer, index, .. } => CompileError::ActivationOverflow {
            sample,
            layer,
            index,
        },
        // weights that do not fit the layer (rejected when the program is built)
        ModelError::InvalidModel(_) => {
            let l = layers.get(layer);
            CompileError::WeightCount {
                layer,
                expected: l.map_or(0, |l| l.n_out * (l.n_in / l.groups.max(1))),
                got: l.map_or(0, |l| l.weights.len()),
            }
        }
        // an invalid multiplier fails on the first output; `t` overflowing i64 cannot happen on a
        // validated descriptor (|acc| < 2^46, M < 2^24)
        _ => CompileError::ActivationOverflow {
            sample,
            layer,
            index: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_rule_and_the_air_witness_requantize_alike() {
        // the specification (glassbox_model) and the cells the AIR checks (glassbox_air) compute
        // t and the remainder the same way, for every case of t
        use glassbox_air::ActivationCells;
        for m in [1u32, 300, 1 << 15, 65535, 255 << 16, (1 << 24) - 1] {
            for acc in [
                -70_000i64, -1000, -3, -1, 0, 1, 2, 3, 255, 256, 1000, 123_457,
            ] {
                let air = ActivationCells::requantize(acc, m).expect("no overflow");
                match requantize(acc, m) {
                    Some(r) => {
                        // the AIR stores x and derives t = x + c·(1 + d)
                        let t = air.x + air.c * (1 + air.d0 + 256 * air.d1);
                        assert_eq!((r.t, r.remainder), (t, air.r0 + 256 * air.r1));
                        assert_eq!((r.x, air.x), (r.t.clamp(0, glassbox_air::ACT_MAX), r.x));
                    }
                    // outside the provable range: the AIR's range witness would not fit 16 bits
                    None => assert!(air.d0 + 256 * air.d1 >= 1 << 16 || air.d1 > 255),
                }
            }
        }
    }

    #[test]
    fn requantize_rounds_half_up_and_clamps() {
        // acc·M = 1.5·2^16 → t = 2, r = 0
        let r = requantize(3, 1 << 15).unwrap();
        assert_eq!((r.t, r.remainder, r.x), (2, 0, 2));
        let r = requantize(-3, 1 << 15).unwrap();
        assert_eq!((r.t, r.x), (-1, 0));
        assert_eq!(r.t * 65536 + r.remainder, -3 * 32768 + 32768);
        let r = requantize(1000, 1 << 15).unwrap();
        assert_eq!((r.t, r.x), (500, 255));
        assert!(requantize(1 << 40, 1 << 15).is_none());
        assert!(requantize(-(1 << 40), 1 << 15).is_none());
    }
}
