//! Per-feature preprocessing in front of a tree ensemble, folded into the raw thresholds.
//!
//! A `Scaler`, `Add`/`Sub`/`Mul`/`Div` by constants, `ArrayFeatureExtractor`, `Concat` and the
//! shape plumbing make every feature the trees read either a constant or a [`Feature::Chain`]:
//! scalar `f32` operations applied to *one* raw feature, in the order onnxruntime applies them
//! (its `Scaler` computes `(x − offset)·scale` in `f32`, so it is two steps here). Each step is
//! monotone, because IEEE rounding is: non-decreasing for `+ c`, `− c` and a positive factor,
//! non-increasing for `c − x` and a negative factor. A chain without a zero factor is therefore
//! monotone over all finite `f32`, and the raw values for which a branch `z ⋚ t` holds form a
//! range whose ends [`Feature::condition`] finds by bisection over the `f32` order, evaluating
//! the chain itself. The fold is exact: for every finite raw input, the threshold code of the
//! raw value decides the branch as the tree decides it on onnxruntime's `f32` preprocessed value
//! (no rounding of `t / scale + offset` enters).
//!
//! A zero factor makes the feature constant wherever the steps before it are finite, and NaN
//! where they overflow (`∞·0`); the branch is decided when the model is compiled, or is a band
//! of raw values when NaN goes the other way.

use crate::error::{ModelError, Result};
use crate::ir::tree::BranchMode;
use crate::lower::tabular::splits::Condition;

/// One scalar `f32` step of a chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    /// `x + c`.
    Add(f32),
    /// `x − c`.
    Sub(f32),
    /// `c − x`.
    SubFrom(f32),
    /// `x · c`.
    Mul(f32),
    /// `x / c` (`c ≠ 0`).
    Div(f32),
}

impl Step {
    /// The step on one value, in `f32`.
    pub(crate) fn apply(self, x: f32) -> f32 {
        match self {
            Self::Add(c) => x + c,
            Self::Sub(c) => x - c,
            Self::SubFrom(c) => c - x,
            Self::Mul(c) => x * c,
            Self::Div(c) => x / c,
        }
    }

    /// `1` non-decreasing, `−1` non-increasing, `0` constant (a zero factor).
    fn direction(self) -> i32 {
        match self {
            Self::Add(_) | Self::Sub(_) => 1,
            Self::SubFrom(_) => -1,
            Self::Mul(c) | Self::Div(c) => (c > 0.0) as i32 - (c < 0.0) as i32,
        }
    }
}

/// A feature the trees read, as a function of the raw sample.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Feature {
    /// The same value for every sample.
    Const(f32),
    /// `steps`, in order, applied to raw feature `input`.
    Chain {
        /// The raw feature.
        input: usize,
        /// The operations.
        steps: Vec<Step>,
    },
}

impl Feature {
    /// The feature's value for raw sample `x`.
    pub(crate) fn eval(&self, x: &[f32]) -> f32 {
        match self {
            Self::Const(v) => *v,
            Self::Chain { input, steps } => run(steps, x.get(*input).copied().unwrap_or(0.0)),
        }
    }

    /// The feature followed by `step`; a non-finite constant, or a division by zero, is refused
    /// (they would make the chain non-monotone).
    pub(crate) fn then(self, step: Step) -> Result<Self> {
        let (Step::Add(c) | Step::Sub(c) | Step::SubFrom(c) | Step::Mul(c) | Step::Div(c)) = step;
        if !c.is_finite() || matches!(step, Step::Div(d) if d == 0.0) {
            return Err(ModelError::NonFinite {
                context: "a preprocessing constant in front of a tree ensemble".into(),
            });
        }
        Ok(match self {
            Feature::Const(v) => Feature::Const(step.apply(v)),
            Feature::Chain { input, mut steps } => {
                steps.push(step);
                Feature::Chain { input, steps }
            }
        })
    }

    /// The raw values of its input for which the branch `feature ⋚ threshold` goes true (see
    /// the [module docs](self)).
    pub(crate) fn condition(&self, mode: BranchMode, t: f32) -> Condition {
        let (input, steps) = match self {
            Self::Const(v) => return Condition::Always(mode.goes_true(*v, t)),
            Self::Chain { input, steps } => (*input, steps.as_slice()),
        };
        let holds = |x: f32| mode.goes_true(run(steps, x), t);
        if let Some(zero) = steps.iter().position(|s| s.direction() == 0) {
            return constant(input, steps, zero, mode, t);
        }
        let up = direction(steps) > 0;
        match mode {
            BranchMode::Leq | BranchMode::Lt if up => Condition::at_most(input, last(holds)),
            BranchMode::Gte | BranchMode::Gt if !up => Condition::at_most(input, last(holds)),
            BranchMode::Leq | BranchMode::Lt | BranchMode::Gte | BranchMode::Gt => {
                Condition::at_least(input, first(holds))
            }
            BranchMode::Eq | BranchMode::Neq => {
                let ge = |x: f32| run(steps, x) >= t;
                let le = |x: f32| run(steps, x) <= t;
                let (lo, hi) = match up {
                    true => (first(ge), last(le)),
                    false => (first(le), last(ge)),
                };
                Condition::between(input, lo, hi, mode == BranchMode::Neq)
            }
        }
    }
}

fn run(steps: &[Step], x: f32) -> f32 {
    steps.iter().fold(x, |v, s| s.apply(v))
}

fn direction(steps: &[Step]) -> i32 {
    steps.iter().map(|s| s.direction()).product()
}

/// A chain with a zero factor at `zero`: constant where the steps before it are finite (a
/// range, since they are monotone), NaN elsewhere.
fn constant(input: usize, steps: &[Step], zero: usize, mode: BranchMode, t: f32) -> Condition {
    let before = &steps[..zero];
    let up = direction(before) > 0;
    let above_min = |x: f32| run(before, x) > f32::NEG_INFINITY;
    let below_max = |x: f32| run(before, x) < f32::INFINITY;
    let (lo, hi) = match up {
        true => (first(above_min), last(below_max)),
        false => (first(below_max), last(above_min)),
    };
    let on_nan = mode.goes_true(f32::NAN, t);
    let inside = match lo {
        Some(x) => mode.goes_true(run(steps, x), t),
        None => on_nan,
    };
    match inside == on_nan {
        true => Condition::Always(on_nan),
        false => Condition::between(input, lo, hi, on_nan),
    }
}

/// The position of a finite `f32` in the total order of finite values (`−0` just below `+0`).
fn key(x: f32) -> i64 {
    let bits = x.to_bits();
    match bits >> 31 {
        1 => -i64::from(bits & 0x7fff_ffff) - 1,
        _ => i64::from(bits),
    }
}

fn from_key(k: i64) -> f32 {
    match k < 0 {
        true => f32::from_bits((-(k + 1)) as u32 | 0x8000_0000),
        false => f32::from_bits(k as u32),
    }
}

/// The least finite `x` with `q(x)`, for `q` true on an upper set of the finite `f32` values.
pub(crate) fn first(q: impl Fn(f32) -> bool) -> Option<f32> {
    if !q(f32::MAX) {
        return None;
    }
    if q(-f32::MAX) {
        return Some(-f32::MAX);
    }
    let (mut no, mut yes) = (key(-f32::MAX), key(f32::MAX));
    while yes - no > 1 {
        let mid = no + (yes - no) / 2;
        match q(from_key(mid)) {
            true => yes = mid,
            false => no = mid,
        }
    }
    Some(from_key(yes))
}

/// The greatest finite `x` with `q(x)`, for `q` true on a lower set of the finite `f32` values.
pub(crate) fn last(q: impl Fn(f32) -> bool) -> Option<f32> {
    first(|x| !q(x)).map_or(Some(f32::MAX), |x| {
        (x != -f32::MAX).then(|| from_key(key(x) - 1))
    })
}

#[cfg(test)]
mod tests;
