//! The calibration of a float network's smooth activations: each gets the pre-activation range
//! its activation table spans (see [`table`](super::table)), and a report of how closely the
//! table follows the function.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lower::dense::FloatMlp;
use crate::lower::smooth::scalar::ScalarFn;
use crate::lower::smooth::table::{table_error, FitError, TableQuant, TABLE_LEN};

/// The pre-activation range assumed without calibration samples.
const DEFAULT_RANGE: f64 = 8.0;
/// Calibration samples used to find the pre-activation ranges.
const RANGE_SAMPLES: usize = 512;

/// How one smooth activation is proven and how closely its table follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationFidelity {
    /// The layer it follows.
    pub layer: usize,
    /// Its ops (`Tanh`, `Sigmoid → Mul`, …).
    pub function: String,
    /// The table's range `[lo, hi]` of pre-activations (calibrated, or `±8`).
    pub range: (f64, f64),
    /// Table entries (256).
    pub segments: usize,
    /// The table's error against the function on that range (index and value rounding).
    pub error: FitError,
}

/// Gives every smooth activation of `mlp` the range of its table: the part of the range its
/// pre-activations take on the calibration samples where the function is not flat (a range set
/// by the lowering is kept). Networks without smooth activations come back unchanged (and no
/// reports).
///
/// # Errors
/// Evaluation errors of the float network or of an activation.
pub(crate) fn expand(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(FloatMlp, Vec<ActivationFidelity>)> {
    if mlp.layers.iter().all(|l| l.smooth.is_none()) {
        return Ok((mlp.clone(), Vec::new()));
    }
    let ranges = pre_activation_ranges(mlp, calibration)?;
    let mut out = mlp.clone();
    let mut reports = Vec::new();
    for (li, l) in out.layers.iter_mut().enumerate() {
        let Some(f) = &l.smooth else { continue };
        let range = match l.table_range {
            Some(r) => r,
            None => table_range(f, ranges[li])?,
        };
        l.table_range = Some(range);
        // the table's own error, at an accumulator scale that makes the index step exact
        let s_acc = (range.1 - range.0) / (TABLE_LEN - 1) as f64;
        let table = TableQuant::new(f, range, s_acc)?;
        let error = table_error(f, &table, range, s_acc)?;
        reports.push(ActivationFidelity {
            layer: li,
            function: f.describe(),
            range,
            segments: TABLE_LEN,
            error,
        });
    }
    out.validate()?;
    Ok((out, reports))
}

/// The range of `f`'s table for pre-activations calibrated on `(lo, hi)` (`±8` if there were
/// none, or all were equal): the part where `f` is not flat.
///
/// # Errors
/// Evaluation errors of `f`.
pub(crate) fn table_range(f: &ScalarFn, (lo, hi): (f64, f64)) -> Result<(f64, f64)> {
    let range = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (-DEFAULT_RANGE, DEFAULT_RANGE)
    };
    trim_flat(f, range)
}

/// The part of `[lo, hi]` where `f` is not flat: a saturating function (`Sigmoid`, `Tanh`,
/// `HardSwish` on the left) within `10⁻⁴` of its value at an end is that value there, which
/// the table's clamped ends give for free, so its entries are spent where `f` bends.
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
