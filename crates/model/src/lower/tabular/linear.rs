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
    let (offset, step): (Vec<f64>, Vec<f64>) = lo
        .iter()
        .zip(&hi)
        .map(|(&a, &b)| {
            if a.is_finite() && b > a {
                ((a + b) / 2.0, (b - a) / 254.0)
            } else if a.is_finite() {
                (a, 1.0) // a constant feature: code 0 is its value
            } else {
                (0.0, 1.0 / 127.0) // no calibration: [−1, 1]
            }
        })
        .unzip();
    let rows: Vec<Option<usize>> = match head {
        Head::Columns => (0..l.n_targets).map(Some).collect(),
        Head::Binary { column, .. } => vec![None, Some(column)],
    };
    let mut w = Vec::with_capacity(rows.len() * n);
    let mut b = Vec::with_capacity(rows.len());
    for r in &rows {
        match r {
            Some(t) => {
                let coef = &l.coefficients[t * n..(t + 1) * n];
                w.extend(coef.iter().zip(&step).map(|(&c, s)| f64::from(c) * s));
                let shift: f64 = coef
                    .iter()
                    .zip(&offset)
                    .map(|(&c, o)| f64::from(c) * o)
                    .sum();
                b.push(f64::from(l.intercepts[*t]) + shift);
            }
            None => {
                w.extend(std::iter::repeat_n(0.0, n));
                b.push(0.0);
            }
        }
    }
    let max = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    let s = if max > 0.0 { max / 127.0 } else { 1.0 };
    let weights = w
        .iter()
        .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let bias = b
        .iter()
        .enumerate()
        .map(|(i, v)| quantize_bias(v / s, 0, i))
        .collect::<Result<Vec<_>>>()?;
    Ok(QuantizedModel {
        name: String::new(),
        input_len: n,
        input_scale: 1.0,
        input_encoding: InputEncoding::Affine { offset, step },
        layers: vec![QuantizedDense {
            n_in: n,
            n_out: rows.len(),
            weights,
            bias,
            multiplier: None,
            groups: 1,
            conv: None,
        }],
        output_scale: s,
        classifier: l.classes.is_some(),
        proof_batch: None,
    })
}
