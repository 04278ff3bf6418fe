//! Linear models lowered to one integer layer (see the [module docs](crate::lower::tabular)).

use crate::error::{ModelError, Result};
use crate::ir::linear::LinearModel;
use crate::lower::tabular::head::{quantize_bias, Head};
use crate::quant::encoding::InputEncoding;
use crate::quant::model::{QuantizedDense, QuantizedModel};

/// Lowers a linear model to one dense layer over affine-encoded features (see the
/// [module docs](self)). Without calibration samples every feature is assumed to lie in `[−1, 1]`.
///
/// # Errors
/// See [`lower_graph`](crate::lower::tabular::lower_graph).
pub(crate) fn lower_linear(
    l: &LinearModel,
    calibration: Option<&[Vec<f32>]>,
) -> Result<QuantizedModel> {
    l.validate()?;
    let head = Head::of_linear(l)?;
    let n = l.n_features;
    let (offset, step) = affine_encoding(n, calibration)?;
    let rows: Vec<Option<usize>> = match head {
        Head::Columns => (0..l.n_targets).map(Some).collect(),
        Head::Binary { column, .. } => vec![None, Some(column)],
    };
    let mut w = Vec::with_capacity(rows.len() * n);
    let mut b = Vec::with_capacity(rows.len());
    for r in &rows {
        match r {
            Some(t) => {
                w.extend(
                    l.coefficients[t * n..(t + 1) * n]
                        .iter()
                        .map(|&c| f64::from(c)),
                );
                b.push(f64::from(l.intercepts[*t]));
            }
            None => {
                w.extend(std::iter::repeat_n(0.0, n));
                b.push(0.0);
            }
        }
    }
    let layer = quantize_rows(&w, &b, &offset, &step, 0.0)?;
    Ok(QuantizedModel {
        name: String::new(),
        input_len: n,
        input_scale: 1.0,
        input_encoding: InputEncoding::Affine { offset, step },
        layers: vec![QuantizedDense {
            n_in: n,
            n_out: rows.len(),
            weights: layer.weights,
            bias: layer.bias,
            multiplier: None,
            groups: 1,
            conv: None,
            patch: None,
            table: None,
        }],
        output_scale: layer.scale,
        classifier: l.classes.is_some(),
        proof_batch: None,
    })
}

/// The affine input encoding of `n` features: each calibrated range mapped to `−127..=127`
/// (`offset` its midpoint, `step` its width over 254). Without calibration samples every feature
/// is assumed to lie in `[−1, 1]`.
///
/// # Errors
/// [`ModelError::InputLength`] or [`ModelError::NonFinite`] for a bad calibration sample.
pub(crate) fn affine_encoding(
    n: usize,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut lo, mut hi) = (vec![f64::INFINITY; n], vec![f64::NEG_INFINITY; n]);
    for x in calibration.unwrap_or_default() {
        if x.len() != n {
            return Err(ModelError::InputLength {
                expected: n,
                got: x.len(),
            });
        }
        for (f, &v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(ModelError::NonFinite {
                    context: "calibration sample".into(),
                });
            }
            lo[f] = lo[f].min(f64::from(v));
            hi[f] = hi[f].max(f64::from(v));
        }
    }
    // a feature constant on the calibration samples gets the median step of the others, so
    // that its (unused there) weight neither dominates the layer's scale nor vanishes
    let mut steps: Vec<f64> = lo
        .iter()
        .zip(&hi)
        .filter(|(a, b)| a.is_finite() && b > a)
        .map(|(a, b)| (b - a) / 254.0)
        .collect();
    steps.sort_by(f64::total_cmp);
    let median = steps.get(steps.len() / 2).copied().unwrap_or(1.0);
    Ok(lo
        .iter()
        .zip(&hi)
        .map(|(&a, &b)| {
            if a.is_finite() && b > a {
                ((a + b) / 2.0, (b - a) / 254.0)
            } else if a.is_finite() {
                (a, median) // constant on the calibration samples: code 0 is its value
            } else {
                (0.0, 1.0 / 127.0) // no calibration: [−1, 1]
            }
        })
        .unzip())
}

/// Calibration samples as affine codes `(x − offset)/step` (unrounded).
pub(crate) fn to_codes(
    calibration: Option<&[Vec<f32>]>,
    offset: &[f64],
    step: &[f64],
) -> Vec<Vec<f32>> {
    calibration
        .unwrap_or_default()
        .iter()
        .map(|x| {
            x.iter()
                .zip(offset.iter().zip(step))
                .map(|(&v, (o, s))| ((f64::from(v) - o) / s) as f32)
                .collect()
        })
        .collect()
}

/// Rows over raw features, quantized over the affine codes.
pub(crate) struct QuantizedRows {
    /// Row-major int8 weights.
    pub(crate) weights: Vec<i8>,
    /// One bias per row.
    pub(crate) bias: Vec<i64>,
    /// Real value of one accumulator unit.
    pub(crate) scale: f64,
}

/// Quantizes `rows` (row-major `[m][n]` over raw features) and `intercepts` for inputs encoded
/// with `offset`/`step`: the steps fold into the weights, the offsets into the biases, and one
/// scale `s = max|w|/127` makes the weights int8, so the accumulator is `≈ (row·x + b)/s`.
/// `shift` is added to every bias in accumulator units before rounding.
///
/// # Errors
/// [`ModelError::BiasOverflow`].
pub(crate) fn quantize_rows(
    rows: &[f64],
    intercepts: &[f64],
    offset: &[f64],
    step: &[f64],
    shift: f64,
) -> Result<QuantizedRows> {
    let n = offset.len();
    let mut w = Vec::with_capacity(rows.len());
    let mut b = Vec::with_capacity(intercepts.len());
    for (row, &intercept) in rows.chunks(n.max(1)).zip(intercepts) {
        w.extend(row.iter().zip(step).map(|(&c, s)| c * s));
        b.push(intercept + row.iter().zip(offset).map(|(&c, o)| c * o).sum::<f64>());
    }
    let max = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let weights = w
        .iter()
        .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let bias = b
        .iter()
        .enumerate()
        .map(|(i, v)| quantize_bias(v / scale + shift, 0, i))
        .collect::<Result<Vec<_>>>()?;
    Ok(QuantizedRows {
        weights,
        bias,
        scale,
    })
}
