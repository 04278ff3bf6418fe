//! A smooth activation as an activation table (see `glassbox_air::table`): the layer's
//! requantization maps the pre-activation range `[lo, hi]` onto the index `0..=255`, and the
//! table holds the function's value at each index, scaled to `−255..=255`.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lower::smooth::scalar::ScalarFn;
use crate::quant::requant::{ACT_MAX, MAX_MULTIPLIER, MULTIPLIER_SHIFT};

/// Indices of a table.
pub const TABLE_LEN: usize = 256;

/// How one smooth layer is quantized through its table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableQuant {
    /// The requantization multiplier (index step `s_acc·2^16 / M`).
    pub multiplier: u32,
    /// The pre-activation at index 0, which the bias subtracts.
    pub lo: f64,
    /// The table's values.
    pub values: Vec<i64>,
    /// Real value of one table unit: the next layer's input scale.
    pub out_scale: f64,
}

impl TableQuant {
    /// The table of `f` over `[lo, hi]` for accumulators of scale `s_acc`.
    ///
    /// # Errors
    /// Evaluation errors of `f`.
    pub fn new(f: &ScalarFn, (lo, hi): (f64, f64), s_acc: f64) -> Result<Self> {
        let step = (hi - lo).max(f64::MIN_POSITIVE) / ACT_MAX as f64;
        let one = f64::from(1u32 << MULTIPLIER_SHIFT);
        let m = (s_acc / step * one)
            .round()
            .clamp(1.0, f64::from(MAX_MULTIPLIER - 1)) as u32;
        // the step the integer multiplier really takes
        let step = s_acc * one / f64::from(m);
        let points: Vec<f32> = (0..TABLE_LEN)
            .map(|x| (lo + x as f64 * step) as f32)
            .collect();
        let ys = f.eval_many(&points)?;
        let top = ys.iter().fold(0f64, |a, &y| a.max(f64::from(y).abs()));
        let out_scale = if top > 0.0 && top.is_finite() {
            top / ACT_MAX as f64
        } else {
            1.0
        };
        let values = ys
            .iter()
            .map(|&y| {
                (f64::from(y) / out_scale)
                    .round()
                    .clamp(-(ACT_MAX as f64), ACT_MAX as f64) as i64
            })
            .collect();
        Ok(Self {
            multiplier: m,
            lo,
            values,
            out_scale,
        })
    }

    /// The index step (pre-activation units per index).
    pub fn step(&self, s_acc: f64) -> f64 {
        s_acc * f64::from(1u32 << MULTIPLIER_SHIFT) / f64::from(self.multiplier)
    }

    /// The table's value for pre-activation `z` (what the integer layer computes, up to the
    /// rounding of the accumulator itself).
    pub fn apply(&self, z: f64, s_acc: f64) -> f64 {
        let x = ((z - self.lo) / self.step(s_acc))
            .round()
            .clamp(0.0, (TABLE_LEN - 1) as f64) as usize;
        self.values[x] as f64 * self.out_scale
    }
}

/// How closely a table follows its function on its range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitError {
    /// Largest `|table(z) − f(z)|` on 4097 evenly spaced points of the range.
    pub max: f64,
    /// Mean of the same.
    pub mean: f64,
}

/// The error of `table` against `f` over its range, for accumulators of scale `s_acc`.
///
/// # Errors
/// Evaluation errors of `f`.
pub(crate) fn table_error(
    f: &ScalarFn,
    table: &TableQuant,
    (lo, hi): (f64, f64),
    s_acc: f64,
) -> Result<FitError> {
    const PROBES: usize = 4096;
    let zs: Vec<f64> = (0..=PROBES)
        .map(|i| lo + (hi - lo) * i as f64 / PROBES as f64)
        .collect();
    let points: Vec<f32> = zs.iter().map(|&z| z as f32).collect();
    let ys = f.eval_many(&points)?;
    let errs: Vec<f64> = zs
        .iter()
        .zip(&ys)
        .map(|(&z, &y)| (table.apply(z, s_acc) - f64::from(y)).abs())
        .collect();
    Ok(FitError {
        max: errs.iter().fold(0f64, |a, &e| a.max(e)),
        mean: errs.iter().sum::<f64>() / errs.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::graph::{Op, Operand};
    use crate::ir::unary::Unary;

    #[test]
    fn a_tanh_table_spans_its_range_and_stays_within_a_step() {
        let f = ScalarFn::from_ops(
            vec![(Op::Unary(Unary::Tanh), vec![Operand::Value(0)])],
            vec![],
        );
        let s_acc = 1e-3;
        let t = TableQuant::new(&f, (-4.0, 4.0), s_acc).unwrap();
        assert_eq!(t.values.len(), TABLE_LEN);
        assert_eq!(t.values[0], -255);
        assert_eq!(t.values[255], 255);
        assert!((t.step(s_acc) * 255.0 - 8.0).abs() < 1e-2);
        let err = table_error(&f, &t, (-4.0, 4.0), s_acc).unwrap();
        // half an index step times the steepest slope (1), plus half an output unit
        assert!(err.max < 8.0 / 255.0 / 2.0 + 1.0 / 255.0, "{err:?}");
        assert!(err.mean < err.max);
    }
}
