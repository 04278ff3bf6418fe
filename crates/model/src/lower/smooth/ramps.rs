//! Smooth activations as sums of ramps, which the proof's requantization unit already computes.
//!
//! The activation unit proves `clamp(t, 0, 255)`. With the activation scale set to `w/255`, a
//! neuron with bias `b − c` computes the *ramp* `r(z) = clip(z − c, 0, w)`, exactly. Any
//! function on `[lo, hi]` is, up to its linear interpolation on `K` segments of width
//! `w = (hi − lo)/K`, `f(z) ≈ f(lo) + Σ_k (f(c_{k+1}) − f(c_k))/w · clip(z − c_k, 0, w)` with
//! `c_k = lo + k·w`: flat beyond both ends, exact at the breakpoints. So a layer followed by a
//! smooth `f` becomes a layer of `K` ramps per neuron (its weights repeated, the biases shifted
//! by `c_k`), and the next layer's weights absorb the slopes and its bias `f(lo)`. The proof
//! needs no new constraint: what it proves is the expanded network, committed by the digest like
//! any other; the only cost is fidelity (measured per activation by [`RampFit::error`]) and
//! `K×` the neurons of the layer.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::lower::smooth::scalar::ScalarFn;

/// Segments per activation: the default trade of fidelity against cells (each segment is one
/// more neuron per neuron).
pub const DEFAULT_SEGMENTS: usize = 16;

/// Points per segment at which the fit's error is measured.
const PROBES: usize = 8;

/// A function sampled at `K + 1` breakpoints of `[lo, hi]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampFit {
    /// First breakpoint.
    pub lo: f64,
    /// Segment width `w`.
    pub width: f64,
    /// `f(c_0), …, f(c_K)`.
    pub values: Vec<f64>,
}

/// Max and mean absolute error of a fit against its function on `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitError {
    /// Largest `|f − fit|`.
    pub max: f64,
    /// Mean `|f − fit|` over evenly spaced probes.
    pub mean: f64,
}

impl RampFit {
    /// Samples `f` at the breakpoints of `segments` segments of `[lo, hi]`.
    ///
    /// # Errors
    /// [`ModelError::NonFinite`] if `f` is not finite there; evaluation errors.
    pub fn new(f: &ScalarFn, lo: f64, hi: f64, segments: usize) -> Result<Self> {
        let k = segments.max(1);
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 1.0, lo + 1.0)
        };
        let width = (hi - lo) / k as f64;
        let points: Vec<f32> = (0..=k).map(|i| (lo + i as f64 * width) as f32).collect();
        let values: Vec<f64> = f
            .eval_many(&points)?
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: format!("activation {} on [{lo}, {hi}]", f.describe()),
            });
        }
        Ok(Self { lo, width, values })
    }

    /// Segments `K`.
    pub fn segments(&self) -> usize {
        self.values.len() - 1
    }

    /// The slope of ramp `k`: `(f(c_{k+1}) − f(c_k))/w`.
    pub fn slope(&self, k: usize) -> f64 {
        (self.values[k + 1] - self.values[k]) / self.width
    }

    /// Breakpoint `c_k`.
    pub fn breakpoint(&self, k: usize) -> f64 {
        self.lo + k as f64 * self.width
    }

    /// The interpolation at `z` (flat outside `[lo, hi]`), as the ramps sum it.
    pub fn eval(&self, z: f64) -> f64 {
        (0..self.segments()).fold(self.values[0], |acc, k| {
            acc + self.slope(k) * (z - self.breakpoint(k)).clamp(0.0, self.width)
        })
    }

    /// The fit's error against `f` on `[lo, hi]`.
    ///
    /// # Errors
    /// Evaluation errors of `f`.
    pub fn error(&self, f: &ScalarFn) -> Result<FitError> {
        let n = self.segments() * PROBES;
        let points: Vec<f32> = (0..=n)
            .map(|i| (self.lo + i as f64 * self.width / PROBES as f64) as f32)
            .collect();
        let exact = f.eval_many(&points)?;
        let errors: Vec<f64> = points
            .iter()
            .zip(&exact)
            .map(|(&z, &y)| (self.eval(f64::from(z)) - f64::from(y)).abs())
            .collect();
        Ok(FitError {
            max: errors.iter().fold(0.0, |m: f64, &e| m.max(e)),
            mean: errors.iter().sum::<f64>() / errors.len() as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::graph::{Node, Op, Operand};
    use crate::ir::unary::Unary;

    fn tanh() -> ScalarFn {
        ScalarFn {
            nodes: vec![Node {
                name: "t".into(),
                op_type: "Tanh".into(),
                op: Op::Unary(Unary::Tanh),
                inputs: vec![Operand::Value(0)],
            }],
            constants: vec![],
        }
    }

    #[test]
    fn ramps_interpolate_and_the_error_shrinks_with_segments() {
        let f = tanh();
        let coarse = RampFit::new(&f, -4.0, 4.0, 8).unwrap();
        // exact at the breakpoints, flat outside
        for k in 0..=8 {
            let c = coarse.breakpoint(k);
            assert!((coarse.eval(c) - c.tanh()).abs() < 1e-6);
        }
        assert!((coarse.eval(-9.0) - coarse.values[0]).abs() < 1e-12);
        let e8 = coarse.error(&f).unwrap();
        let e32 = RampFit::new(&f, -4.0, 4.0, 32).unwrap().error(&f).unwrap();
        assert!(e8.max < 0.1 && e32.max < e8.max / 10.0, "{e8:?} {e32:?}");
        assert!(e32.mean <= e32.max);
    }
}
