//! The RBF kernel's two hidden layers (see [`super::kernel`]): ramps of every feature, which
//! give both `z_j` and `z_j²` linearly, then the distances `D_v = ‖z − s_v‖²` through the
//! activation table of `exp(−gamma·D)` on `[0, D_max]` (`exp(−gamma·D_max) = 10⁻³`).

use crate::ir::graph::{Op, Operand};
use crate::ir::svm::SvmModel;
use crate::ir::unary::Unary;
use crate::lower::dense::FloatDense;
use crate::lower::smooth::scalar::ScalarFn;
use crate::lower::tabular::prefix::AffinePrefix;

/// The RBF's two hidden layers: ramps of every `z_j`, then the distances `D_v` through the table
/// of `exp(−gamma·D)`.
pub(crate) fn rbf_layers(
    m: &SvmModel,
    z: &AffinePrefix,
    zs: &[Vec<f64>],
    gamma: f64,
    k: usize,
) -> Vec<FloatDense> {
    let (a_u, c_u, n) = (&z.a, &z.c, z.n_in);
    let n_z = c_u.len();
    // each feature's calibrated range (the support vectors' own values count too)
    let ranges: Vec<(f64, f64)> = (0..n_z)
        .map(|j| {
            let vals = zs
                .iter()
                .map(|z| z[j])
                .chain((0..m.n_sv()).map(|v| f64::from(m.vector(v)[j])));
            let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            if hi > lo {
                (lo, hi)
            } else {
                (lo - 1.0, lo + 1.0)
            }
        })
        .collect();
    let mut weights = Vec::with_capacity(n_z * k * n);
    let mut bias = Vec::with_capacity(n_z * k);
    for (j, &(lo, hi)) in ranges.iter().enumerate() {
        let w = (hi - lo) / k as f64;
        for s in 0..k {
            let c = lo + s as f64 * w;
            weights.extend(a_u[j * n..(j + 1) * n].iter().map(|a| (a / w) as f32));
            bias.push(((c_u[j] - c) / w) as f32);
        }
    }
    let ramps = FloatDense {
        n_in: n,
        n_out: n_z * k,
        weights,
        bias,
        relu: true,
        cap: Some(1.0),
        smooth: None,
        table_range: None,
    };
    let padded = m.n_sv();
    let mut weights = Vec::with_capacity(padded * n_z * k);
    let mut bias = Vec::with_capacity(padded);
    let mut d_max = 0f64;
    for v in 0..m.n_sv() {
        let sv = m.vector(v);
        let mut b = 0.0;
        for (j, &(lo, hi)) in ranges.iter().enumerate() {
            let w = (hi - lo) / k as f64;
            let s = f64::from(sv[j]);
            for r in 0..k {
                let (c0, c1) = (lo + r as f64 * w, lo + (r + 1) as f64 * w);
                weights.push((c1 * c1 - c0 * c0 - 2.0 * s * w) as f32);
            }
            b += (lo - s) * (lo - s);
        }
        bias.push(b as f32);
        for z in zs {
            let d: f64 = z
                .iter()
                .zip(sv)
                .map(|(zj, &s)| (zj - f64::from(s)).powi(2))
                .sum();
            d_max = d_max.max(d);
        }
    }
    let cutoff = 1000f64.ln() / gamma.max(f64::MIN_POSITIVE);
    let d_cap = if d_max > 0.0 {
        d_max.min(cutoff)
    } else {
        cutoff
    };
    let exp = ScalarFn::from_ops(
        vec![
            (Op::Mul, vec![Operand::Value(0), Operand::Const(0)]),
            (Op::Unary(Unary::Exp), vec![Operand::Value(1)]),
        ],
        vec![-(gamma as f32)],
    );
    let kernels = FloatDense {
        n_in: n_z * k,
        n_out: padded,
        weights,
        bias,
        relu: false,
        cap: None,
        smooth: Some(exp),
        table_range: Some((0.0, d_cap)),
    };
    vec![ramps, kernels]
}
