//! SVMs with the polynomial, sigmoid and RBF kernels, as small networks over the affine codes.
//!
//! The raw features are encoded per feature ([`affine_encoding`]), so the network's input is
//! the code `u` and the folded preprocessing is `z = A_u·u + c_u`. Then:
//! - **Polynomial and sigmoid kernels**: one layer computes `t_v = gamma·⟨s_v, z⟩ + coef0` for
//!   every support vector `v`, followed by the smooth activation `t^degree` or `tanh t`.
//! - **RBF**: `exp(−gamma·‖z − s_v‖²)` needs squares. A first layer of ramps
//!   `clip((z_j − c_jk)/w_j, 0, 1)` over each feature's calibrated range gives both `z_j` and
//!   `z_j²` as linear functions of the same ramps (slope `w_j`, and the chords of the square), so
//!   the second layer computes `D_v = Σ_j (z_j − s_vj)²` directly, and its activation table
//!   gives `exp(−gamma·D_v)` on `[0, D_max]` (`exp(−gamma·D_max) = 10⁻³`, so nothing is lost
//!   beyond: the table's index saturates there).
//!
//! The smooth activations are activation tables like any other ([`crate::lower::smooth`]), and the output
//! layer is the decision `Σ_v coef_v·K_v + rho`: `[d]` for a regressor, `[d, 0]` for two classes
//! (onnxruntime's label is class 0 exactly when `d > 0`), and for more classes a step layer over
//! the class pairs and a vote count, as for the linear kernel.

use crate::error::{ModelError, Result};
use crate::ir::graph::{Op, Operand};
use crate::ir::svm::{Kernel, SvmModel};
use crate::ir::unary::Unary;
use crate::lower::dense::{FloatDense, FloatMlp};
use crate::lower::smooth::expand::{expand, ActivationFidelity};
use crate::lower::smooth::scalar::ScalarFn;
use crate::lower::tabular::linear::{affine_encoding, to_codes};
use crate::lower::tabular::prefix::AffinePrefix;
use crate::lower::tabular::rbf;
use crate::quant::calibrate::quantize_codes;
use crate::quant::compact::compact_groups;
use crate::quant::encoding::InputEncoding;
use crate::quant::model::QuantizedModel;

/// Ramps per feature for the RBF's squares, for classifiers (8 keep the label, see the
/// fixtures' agreement).
const RBF_SEGMENTS: usize = 8;
/// The same for regressors, whose score carries every error (16 measured: 8 % of the target's
/// mean deviation on diabetes, against 28 % with 8).
const RBF_REGRESSOR_SEGMENTS: usize = 16;

/// Lowers an SVM (classifier or regressor) with a nonlinear kernel behind `prefix`.
///
/// # Errors
/// [`ModelError::InvalidModel`] for the linear kernel (lowered as a linear layer by the caller);
/// evaluation and quantization errors.
pub(crate) fn lower_kernel_svm(
    m: &SvmModel,
    prefix: &AffinePrefix,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, Vec<ActivationFidelity>)> {
    let n = prefix.n_in;
    let rbf_segments = if m.is_regressor() {
        RBF_REGRESSOR_SEGMENTS
    } else {
        RBF_SEGMENTS
    };
    let (offset, step) = affine_encoding(n, calibration)?;
    // z as a function of the codes u: z = A·(offset + step⊙u) + c
    let over_codes = prefix.over_codes(&offset, &step);
    let codes = to_codes(calibration, &offset, &step);
    let n_sv = m.n_sv();
    let mut layers = match m.kernel {
        Kernel::Rbf { gamma } => {
            let zs: Vec<Vec<f64>> = codes.iter().map(|u| over_codes.apply(u)).collect();
            rbf::rbf_layers(m, &over_codes, &zs, f64::from(gamma), rbf_segments)
        }
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => vec![dot_layer(m, &over_codes, gamma, coef0, power(degree))],
        Kernel::Sigmoid { gamma, coef0 } => {
            let tanh = ScalarFn::from_ops(
                vec![(Op::Unary(Unary::Tanh), vec![Operand::Value(0)])],
                vec![],
            );
            vec![dot_layer(m, &over_codes, gamma, coef0, tanh)]
        }
        Kernel::Linear => {
            return Err(ModelError::InvalidModel(
                "the linear kernel is lowered as a linear layer".into(),
            ))
        }
    };
    layers.extend(head(m, n_sv, &layers, &codes)?);
    let mlp = FloatMlp {
        name: String::new(),
        input_len: n,
        layers,
        classifier: !m.is_regressor(),
    };
    mlp.validate()?;
    let samples = (!codes.is_empty()).then_some(codes.as_slice());
    let (proven, reports) = expand(&mlp, samples)?;
    let mut q = quantize_codes(&proven, samples)?;
    compact_groups(&mut q);
    q.input_encoding = InputEncoding::Affine { offset, step };
    q.input_scale = 1.0;
    q.validate()?;
    Ok((q, reports))
}

/// The layers after the kernels (`n_sv` of them, padding included): the decision `[d]` of a
/// regressor, `[d, 0]` of two classes, or for more classes the pair decisions as steep ramps
/// `clip(d/ε + 1/2, 0, 1)` (`ε` one percent of the largest calibrated `|d|`) and a layer that
/// counts each class's votes.
fn head(
    m: &SvmModel,
    n_sv: usize,
    kernels: &[FloatDense],
    codes: &[Vec<f32>],
) -> Result<Vec<FloatDense>> {
    let pairs = m.pairs();
    let mut rows = Vec::with_capacity(pairs.len() * n_sv);
    for &pair in &pairs {
        let c = m.pair_coefficients(pair);
        rows.extend(c.iter().map(|&v| v as f32));
        rows.extend(std::iter::repeat_n(0.0, n_sv - m.n_sv()));
    }
    let rho = m.rho.clone();
    let plain = |n_out: usize, weights: Vec<f32>, bias: Vec<f32>| FloatDense {
        n_in: n_sv,
        n_out,
        weights,
        bias,
        relu: false,
        cap: None,
        smooth: None,
        table_range: None,
    };
    if m.is_regressor() {
        return Ok(vec![plain(1, rows, rho)]);
    }
    if pairs.len() == 1 {
        rows.extend(std::iter::repeat_n(0.0, n_sv));
        return Ok(vec![plain(2, rows, vec![rho[0], 0.0])]);
    }
    // the largest |d| on the calibration samples, through the exact kernels
    let decisions = plain(pairs.len(), rows, rho);
    let mut d_max = 0f64;
    for u in codes {
        let mut x = u.clone();
        for l in kernels {
            x = l.activate(l.affine(&x)?)?;
        }
        for d in decisions.affine(&x)? {
            d_max = d_max.max(f64::from(d.abs()));
        }
    }
    let steep = if d_max > 0.0 { 100.0 / d_max } else { 100.0 };
    let step = FloatDense {
        weights: decisions
            .weights
            .iter()
            .map(|&w| (f64::from(w) * steep) as f32)
            .collect(),
        bias: decisions
            .bias
            .iter()
            .map(|&b| (f64::from(b) * steep + 0.5) as f32)
            .collect(),
        relu: true,
        cap: Some(1.0),
        ..decisions
    };
    let k = m.classes.len();
    let mut weights = vec![0f32; k * pairs.len()];
    let mut bias = vec![0f32; k];
    for (p, &(i, j)) in pairs.iter().enumerate() {
        weights[i * pairs.len() + p] = 1.0;
        weights[j * pairs.len() + p] = -1.0;
        bias[j] += 1.0;
    }
    let votes = FloatDense {
        n_in: pairs.len(),
        n_out: k,
        weights,
        bias,
        relu: false,
        cap: None,
        smooth: None,
        table_range: None,
    };
    Ok(vec![step, votes])
}

/// `t ↦ t^degree` as a chain of products.
fn power(degree: u32) -> ScalarFn {
    let mut nodes = vec![(Op::Identity, vec![Operand::Value(0)])];
    for k in 1..degree.max(1) {
        nodes.push((Op::Mul, vec![Operand::Value(k as usize), Operand::Value(0)]));
    }
    ScalarFn::from_ops(nodes, vec![])
}

/// `t_v = gamma·⟨s_v, z⟩ + coef0` for every support vector, then `f`.
fn dot_layer(m: &SvmModel, z: &AffinePrefix, gamma: f32, coef0: f32, f: ScalarFn) -> FloatDense {
    // ⟨s_v, A·u + c⟩ for every support vector: the prefix folded into the vectors as rows
    let vectors: Vec<f64> = m.support_vectors.iter().map(|&x| f64::from(x)).collect();
    let (rows, offsets) = z.fold(&vectors, &vec![0.0; m.n_sv()]);
    let g = f64::from(gamma);
    let n = z.n_in;
    let weights = rows.iter().map(|w| (g * w) as f32).collect();
    let bias = offsets
        .iter()
        .map(|b| (g * b + f64::from(coef0)) as f32)
        .collect();
    FloatDense {
        n_in: n,
        n_out: m.n_sv(),
        weights,
        bias,
        relu: false,
        cap: None,
        smooth: Some(f),
        table_range: None,
    }
}
