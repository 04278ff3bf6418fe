//! One-vs-one SVMs lowered to integer layers (see the [module docs](super); nonlinear kernels in
//! [`super::kernel`]).
//!
//! With the linear kernel every pair's decision is linear in the model's input,
//! `d_p(z) = ⟨Σ_v coef_pv·s_v, z⟩ + rho_p`, and so, after the folded preprocessing, linear in the
//! raw features. Two classes: one layer whose outputs are `[d, 0]` (the label is class 0 exactly
//! when `d > 0`, as onnxruntime decides). More classes: a hidden *step* layer with one neuron
//! per pair, `255·[d_p > 0]` (a ramp a few accumulator units wide where the exact step would leave
//! the requantization range), then an output layer that counts each class's votes
//! (`Σ_{p=(c,·)} bit_p + Σ_{p=(·,c)} (255 − bit_p)`): the outputs are `255 ×` the votes, whose
//! first maximum is the label.

use glassbox_air::{ACT_MAX, T_MAX};

use crate::error::Result;
use crate::ir::svm::{Kernel, SvmModel};
use crate::lower::smooth::expand::ActivationFidelity;
use crate::lower::tabular::head::{quantize_bias, STEP_MULTIPLIER};
use crate::lower::tabular::kernel::lower_kernel_svm;
use crate::lower::tabular::linear::{affine_encoding, quantize_rows};
use crate::lower::tabular::prefix::AffinePrefix;
use crate::quant::encoding::InputEncoding;
use crate::quant::model::{QuantizedDense, QuantizedModel};
use crate::quant::requant::MULTIPLIER_SHIFT;

/// The pair decisions as rows over the SVM's input: `[n_pairs][n_features]` and the offsets.
fn pair_rows(m: &SvmModel) -> (Vec<f64>, Vec<f64>) {
    let n = m.n_features;
    let mut rows = Vec::new();
    for pair in m.pairs() {
        let mut w = vec![0.0; n];
        for (v, &c) in m.pair_coefficients(pair).iter().enumerate() {
            if c != 0.0 {
                for (wk, &s) in w.iter_mut().zip(m.vector(v)) {
                    *wk += c * f64::from(s);
                }
            }
        }
        rows.extend(w);
    }
    (rows, m.rho.iter().map(|&r| f64::from(r)).collect())
}

/// Lowers an SVM behind the affine `prefix` (the identity when it reads the raw features).
///
/// # Errors
/// [`ModelError::Unsupported`] for a kernel other than the linear one; quantization errors.
pub(crate) fn lower_svm(
    m: &SvmModel,
    prefix: &AffinePrefix,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, Vec<ActivationFidelity>)> {
    m.validate()?;
    if m.kernel != Kernel::Linear {
        return lower_kernel_svm(m, prefix, calibration);
    }
    lower_linear_svm(m, prefix, calibration).map(|q| (q, Vec::new()))
}

/// The linear kernel: pair decisions are linear in the raw features.
fn lower_linear_svm(
    m: &SvmModel,
    prefix: &AffinePrefix,
    calibration: Option<&[Vec<f32>]>,
) -> Result<QuantizedModel> {
    let (rows, rho) = pair_rows(m);
    let (rows, rho) = prefix.fold(&rows, &rho);
    let n = prefix.n_in;
    let (offset, step) = affine_encoding(n, calibration)?;
    let pairs = m.pairs();
    if m.is_regressor() {
        let q = quantize_rows(&rows, &rho, &offset, &step, 0.0)?;
        let layer = dense(n, 1, q.weights, q.bias, None);
        let mut out = model(n, offset, step, vec![layer], q.scale);
        out.classifier = false;
        return Ok(out);
    }
    if pairs.len() == 1 {
        let rows: Vec<f64> = rows.into_iter().chain(vec![0.0; n]).collect();
        let q = quantize_rows(&rows, &[rho[0], 0.0], &offset, &step, 0.0)?;
        let layer = dense(n, 2, q.weights, q.bias, None);
        return Ok(model(n, offset, step, vec![layer], q.scale));
    }
    let (multiplier, shift) = {
        let q = quantize_rows(&rows, &rho, &offset, &step, 0.0)?;
        step_multiplier(&q.weights, &q.bias, n)
    };
    let q = quantize_rows(&rows, &rho, &offset, &step, shift)?;
    let hidden = dense(n, pairs.len(), q.weights, q.bias, Some(multiplier));
    let k = m.classes.len();
    let mut weights = vec![0i8; k * pairs.len()];
    let mut bias = vec![0f64; k];
    for (p, &(i, j)) in pairs.iter().enumerate() {
        weights[i * pairs.len() + p] = 1;
        weights[j * pairs.len() + p] = -1;
        bias[j] += 255.0;
    }
    let bias = bias
        .iter()
        .enumerate()
        .map(|(c, &b)| quantize_bias(b, 1, c))
        .collect::<Result<Vec<_>>>()?;
    let votes = dense(pairs.len(), k, weights, bias, None);
    Ok(model(n, offset, step, vec![hidden, votes], 1.0 / 255.0))
}

/// The steepest multiplier whose `t = M·acc/2^16` stays within the requantization range for
/// every input codes can give (`|q| <= 127`), capped at the exact step, and the bias shift (in
/// accumulator units) that centres the ramp `0 → 255` on `d = 0`. With the exact step this is
/// `acc ≥ 1 ⟺ d/s ≥ 1/2`; a wider ramp leaves a pair whose decision is within a few
/// accumulator units of zero a fractional vote.
fn step_multiplier(weights: &[i8], bias: &[i64], n: usize) -> (u32, f64) {
    let worst = weights
        .chunks(n.max(1))
        .zip(bias)
        .map(|(row, b)| row.iter().map(|&w| i64::from(w).abs() * 127).sum::<i64>() + b.abs())
        .max()
        .unwrap_or(1)
        .max(1);
    let room = (T_MAX - ACT_MAX - 256) as f64 * f64::from(1u32 << MULTIPLIER_SHIFT);
    let m = (room / (worst as f64 + 1.0))
        .floor()
        .clamp(1.0, f64::from(STEP_MULTIPLIER)) as u32;
    let shift = 127.5 * f64::from(1u32 << MULTIPLIER_SHIFT) / f64::from(m);
    (m, shift)
}

fn dense(
    n_in: usize,
    n_out: usize,
    weights: Vec<i8>,
    bias: Vec<i64>,
    multiplier: Option<u32>,
) -> QuantizedDense {
    QuantizedDense {
        n_in,
        n_out,
        weights,
        bias,
        multiplier,
        groups: 1,
        conv: None,
        patch: None,
        table: None,
    }
}

fn model(
    n: usize,
    offset: Vec<f64>,
    step: Vec<f64>,
    layers: Vec<QuantizedDense>,
    output_scale: f64,
) -> QuantizedModel {
    QuantizedModel {
        name: String::new(),
        input_len: n,
        input_scale: 1.0,
        input_encoding: InputEncoding::Affine { offset, step },
        layers,
        output_scale,
        classifier: true,
        proof_batch: None,
    }
}
