//! Elementwise nonlinearities of neural networks (`Sigmoid`, `Tanh`, `Erf`, `Exp`, `Softplus`,
//! `Gelu`, `HardSigmoid`, `HardSwish`, `Neg`), with ONNX's float definitions.

use serde::{Deserialize, Serialize};

/// An elementwise function `R → R`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Unary {
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x`.
    Exp,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `−x`.
    Neg,
    /// `x·Φ(x)` (`tanh`: the tanh approximation ONNX's `approximate = "tanh"` names).
    Gelu {
        /// Use the tanh approximation.
        tanh: bool,
    },
    /// `max(0, min(1, alpha·x + beta))`.
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `x·max(0, min(1, x/6 + 1/2))`.
    HardSwish,
}

impl Unary {
    /// The function at `x`, computed in `f64` and rounded once.
    pub fn apply(self, x: f32) -> f32 {
        let v = f64::from(x);
        let out = match self {
            Self::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            Self::Tanh => v.tanh(),
            Self::Erf => libm::erf(v),
            Self::Exp => v.exp(),
            Self::Softplus => {
                // ln(1 + e^v) without overflow for large v
                if v > 30.0 {
                    v
                } else {
                    v.exp().ln_1p()
                }
            }
            Self::Neg => -v,
            Self::Gelu { tanh: false } => {
                0.5 * v * (1.0 + libm::erf(v / core::f64::consts::SQRT_2))
            }
            Self::Gelu { tanh: true } => {
                let c = (2.0 / core::f64::consts::PI).sqrt();
                0.5 * v * (1.0 + (c * (v + 0.044_715 * v * v * v)).tanh())
            }
            Self::HardSigmoid { alpha, beta } => {
                (f64::from(alpha) * v + f64::from(beta)).clamp(0.0, 1.0)
            }
            Self::HardSwish => v * (v / 6.0 + 0.5).clamp(0.0, 1.0),
        };
        out as f32
    }

    /// The ONNX op name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sigmoid => "Sigmoid",
            Self::Tanh => "Tanh",
            Self::Erf => "Erf",
            Self::Exp => "Exp",
            Self::Softplus => "Softplus",
            Self::Neg => "Neg",
            Self::Gelu { .. } => "Gelu",
            Self::HardSigmoid { .. } => "HardSigmoid",
            Self::HardSwish => "HardSwish",
        }
    }

    /// Whether the parameters are finite.
    pub fn is_valid(self) -> bool {
        match self {
            Self::HardSigmoid { alpha, beta } => alpha.is_finite() && beta.is_finite(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_match_their_definitions() {
        assert_eq!(Unary::Sigmoid.apply(0.0), 0.5);
        assert!((Unary::Tanh.apply(1.0) - 0.761_594_2).abs() < 1e-6);
        assert!((Unary::Erf.apply(1.0) - 0.842_700_8).abs() < 1e-6);
        assert!((Unary::Softplus.apply(0.0) - std::f32::consts::LN_2).abs() < 1e-6);
        assert_eq!(Unary::Softplus.apply(100.0), 100.0);
        assert!((Unary::Gelu { tanh: false }.apply(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((Unary::Gelu { tanh: true }.apply(1.0) - 0.841_192).abs() < 1e-5);
        let hs = Unary::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        };
        assert_eq!((hs.apply(-10.0), hs.apply(10.0)), (0.0, 1.0));
        assert_eq!(Unary::HardSwish.apply(6.0), 6.0);
        assert_eq!(Unary::HardSwish.apply(-3.0), 0.0);
        assert_eq!(Unary::Neg.apply(2.0), -2.0);
    }
}
