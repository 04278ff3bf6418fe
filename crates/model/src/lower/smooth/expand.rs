//! The rewrite of a float network with smooth activations into one with capped ReLUs only
//! (see [`ramps`](super::ramps)), and the fidelity of each activation's fit.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lower::dense::{FloatDense, FloatMlp};
use crate::lower::smooth::ramps::{FitError, RampFit};
use crate::lower::smooth::scalar::ScalarFn;

/// The pre-activation range assumed without calibration samples.
const DEFAULT_RANGE: f64 = 8.0;
/// Calibration samples used to find the pre-activation ranges.
const RANGE_SAMPLES: usize = 512;

/// How one smooth activation is proven and how closely its ramps follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationFidelity {
    /// The layer it follows.
    pub layer: usize,
    /// Its ops (`Tanh`, `Sigmoid → Mul`, …).
    pub function: String,
    /// The fitted range `[lo, hi]` of pre-activations (calibrated, or `±8`).
    pub range: (f64, f64),
    /// Ramps per neuron.
    pub segments: usize,
    /// The fit's error against the function on that range.
    pub error: FitError,
}

/// Replaces every smooth activation of `mlp` by `segments` ramps per neuron, fitted on the
/// range its pre-activations take on the calibration samples. Networks without smooth
/// activations come back unchanged (and no reports).
///
/// # Errors
/// Evaluation errors of the float network or of an activation.
pub(crate) fn expand(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
    segments: usize,
) -> Result<(FloatMlp, Vec<ActivationFidelity>)> {
    if mlp.layers.iter().all(|l| l.smooth.is_none()) {
        return Ok((mlp.clone(), Vec::new()));
    }
    let ranges = pre_activation_ranges(mlp, calibration)?;
    let mut layers: Vec<FloatDense> = Vec::with_capacity(mlp.layers.len());
    let mut reports = Vec::new();
    // the fit of the previous layer's activation, which this layer's weights absorb
    let mut pending: Option<(RampFit, usize)> = None;
    for (li, layer) in mlp.layers.iter().enumerate() {
        let mut l = layer.clone();
        if let Some((fit, k)) = pending.take() {
            l = absorb(&l, &fit, k);
        }
        if let Some(f) = &layer.smooth {
            let (lo, hi) = trim_flat(f, ranges[li])?;
            let fit = RampFit::new(f, lo, hi, segments)?;
            reports.push(ActivationFidelity {
                layer: li,
                function: f.describe(),
                range: (lo, hi),
                segments: fit.segments(),
                error: fit.error(f)?,
            });
            l = ramps(&l, &fit);
            pending = Some((fit, segments));
        }
        layers.push(l);
    }
    let out = FloatMlp {
        layers,
        ..mlp.clone()
    };
    out.validate()?;
    Ok((out, reports))
}

/// Each neuron of `l` as `K` ramps `clip(z − c_k, 0, w)`: neuron `i·K + k`.
fn ramps(l: &FloatDense, fit: &RampFit) -> FloatDense {
    let k = fit.segments();
    let mut weights = Vec::with_capacity(l.weights.len() * k);
    let mut bias = Vec::with_capacity(l.n_out * k);
    for (row, &b) in l.weights.chunks(l.n_in.max(1)).zip(&l.bias) {
        for s in 0..k {
            weights.extend_from_slice(row);
            bias.push((f64::from(b) - fit.breakpoint(s)) as f32);
        }
    }
    FloatDense {
        n_in: l.n_in,
        n_out: l.n_out * k,
        weights,
        bias,
        relu: true,
        cap: Some(fit.width as f32),
        smooth: None,
    }
}

/// The layer after a ramped one: input `i` becomes `f(lo) + Σ_k slope_k·ramp_{i,k}`.
fn absorb(l: &FloatDense, fit: &RampFit, k: usize) -> FloatDense {
    let n_in = l.n_in * k;
    let mut weights = Vec::with_capacity(l.n_out * n_in);
    let mut bias = Vec::with_capacity(l.n_out);
    for (row, &b) in l.weights.chunks(l.n_in.max(1)).zip(&l.bias) {
        let mut shift = f64::from(b);
        for &w in row {
            shift += f64::from(w) * fit.values[0];
            weights.extend((0..k).map(|s| (f64::from(w) * fit.slope(s)) as f32));
        }
        bias.push(shift as f32);
    }
    FloatDense {
        n_in,
        weights,
        bias,
        ..l.clone()
    }
}

/// The part of `[lo, hi]` where `f` is not flat: a saturating function (`Sigmoid`, `Tanh`,
/// `HardSwish` on the left) within `10⁻⁴` of its value at an end is that value there, which
/// the ramps give for free, so the segments are spent where `f` bends.
fn trim_flat(f: &ScalarFn, (lo, hi): (f64, f64)) -> Result<(f64, f64)> {
    const PROBES: usize = 1024;
    let points: Vec<f32> = (0..=PROBES)
        .map(|i| (lo + (hi - lo) * i as f64 / PROBES as f64) as f32)
        .collect();
    let y = f.eval_many(&points)?;
    let (min, max) = y
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let tol = 1e-4 * f64::from(max - min).max(f64::MIN_POSITIVE);
    let flat = |a: f32, b: f32| f64::from((a - b).abs()) <= tol;
    let (first, last) = (y[0], y[PROBES]);
    let start = y.iter().position(|&v| !flat(v, first)).unwrap_or(0);
    let end = y.iter().rposition(|&v| !flat(v, last)).unwrap_or(PROBES);
    let (a, b) = (
        f64::from(points[start.saturating_sub(1)]),
        f64::from(points[(end + 1).min(PROBES)]),
    );
    Ok(if b > a { (a, b) } else { (lo, hi) })
}

/// Per layer, the smallest and largest pre-activation over the calibration samples (`±8`
/// without them, or if they are all equal).
fn pre_activation_ranges(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Vec<(f64, f64)>> {
    let n = mlp.layers.len();
    let mut lo = vec![f64::INFINITY; n];
    let mut hi = vec![f64::NEG_INFINITY; n];
    for x in calibration.unwrap_or_default().iter().take(RANGE_SAMPLES) {
        let mut input = x.clone();
        for (li, l) in mlp.layers.iter().enumerate() {
            let z = l.affine(&input)?;
            for &v in &z {
                lo[li] = lo[li].min(f64::from(v));
                hi[li] = hi[li].max(f64::from(v));
            }
            input = l.activate(z)?;
        }
    }
    Ok(lo
        .into_iter()
        .zip(hi)
        .map(|(a, b)| {
            if a.is_finite() && b > a {
                (a, b)
            } else {
                (-DEFAULT_RANGE, DEFAULT_RANGE)
            }
        })
        .collect())
}
