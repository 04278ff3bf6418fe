//! The integer semantics the AIR proves, recorded lane by lane.

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

impl Program {
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
        let layers = &self.descriptor.layers;
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
            let mut x = x0.clone();
            for (l, layer) in layers.iter().enumerate() {
                let w = &self.weights[l];
                // block-diagonal: output i reads the inputs of its group only
                let (c, m) = (layer.n_in / layer.groups, layer.n_out / layer.groups);
                let acc: Vec<i64> = (0..layer.n_out)
                    .map(|i| {
                        let row = &w[i * c..(i + 1) * c];
                        let xs = &x[(i / m) * c..(i / m + 1) * c];
                        row.iter()
                            .zip(xs)
                            .map(|(&w, &x)| i64::from(w) * x)
                            .sum::<i64>()
                            + layer.bias[i]
                    })
                    .collect();
                match layer.multiplier {
                    Some(m) => {
                        let padded = layer.n_out.next_power_of_two();
                        let mut req = Vec::with_capacity(padded);
                        for i in 0..padded {
                            let a = acc.get(i).copied().unwrap_or(0);
                            let r = requantize(a, m).ok_or(CompileError::ActivationOverflow {
                                sample: b,
                                layer: l,
                                index: i,
                            })?;
                            req.push(r);
                        }
                        x = req.iter().take(layer.n_out).map(|r| r.x).collect();
                        exec.hidden[l].push(req);
                    }
                    None => exec.outputs.push(acc),
                }
            }
            exec.inputs.push(x0);
        }
        Ok(exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_matches_the_air_constants() {
        assert_eq!(glassbox_air::ACT_MAX, 255);
        assert_eq!(glassbox_air::REQUANT_SHIFT, 16);
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
