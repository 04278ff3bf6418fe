//! A tree branch as a condition on one *encoded* input: the value the committed encoding
//! compares against its cuts (a raw feature, or an output of a projection).
//!
//! A plain tree's branch `x_f ⋚ t` is a range of `x_f` bounded by `t`. Per-feature preprocessing
//! in front of the trees moves the bound to the raw feature ([`chains`](super::chains)), may
//! flip it (a negative scale) or decide the branch outright (a constant feature). Every case is
//! a range of one encoded input's `f32` values (inside or outside it) or a constant, and every
//! range end is a cut of the threshold encoding, so the comparison layer decides it exactly.

use crate::ir::tree::BranchMode;

/// One end of a range of `f32` values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    /// The cut.
    pub(crate) value: f32,
    /// The cut itself is excluded (`<`, `>`) rather than included (`<=`, `>=`).
    pub(crate) strict: bool,
}

impl Bound {
    fn closed(value: f32) -> Self {
        Self {
            value,
            strict: false,
        }
    }
}

/// Where a branch goes to its true child, over the values of one encoded input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Condition {
    /// Decided when the model is compiled: the same for every input.
    Always(bool),
    /// `lo ≤ x ≤ hi` (or `<` at a strict end, `None` unbounded) for encoded input `input`, or
    /// its complement when `outside`. A range with both ends is never empty.
    Range {
        /// The encoded input.
        input: usize,
        /// Lower end.
        lo: Option<Bound>,
        /// Upper end.
        hi: Option<Bound>,
        /// True outside the range instead of inside.
        outside: bool,
    },
}

impl Condition {
    /// The branch `x_input ⋚ threshold` of a tree that reads the encoded input itself.
    pub(crate) fn direct(input: usize, mode: BranchMode, threshold: f32) -> Self {
        let at = |strict| {
            Some(Bound {
                value: threshold,
                strict,
            })
        };
        let (lo, hi, outside) = match mode {
            BranchMode::Leq => (None, at(false), false),
            BranchMode::Lt => (None, at(true), false),
            BranchMode::Gte => (at(false), None, false),
            BranchMode::Gt => (at(true), None, false),
            BranchMode::Eq => (at(false), at(false), false),
            BranchMode::Neq => (at(false), at(false), true),
        };
        Self::Range {
            input,
            lo,
            hi,
            outside,
        }
    }

    /// `x ≤ hi` over all finite `f32`: never for `None`, always for `hi = f32::MAX`.
    pub(crate) fn at_most(input: usize, hi: Option<f32>) -> Self {
        Self::between(input, Some(-f32::MAX), hi, false)
    }

    /// `x ≥ lo` over all finite `f32`: never for `None`, always for `lo = −f32::MAX`.
    pub(crate) fn at_least(input: usize, lo: Option<f32>) -> Self {
        Self::between(input, lo, Some(f32::MAX), false)
    }

    /// `lo ≤ x ≤ hi` over all finite `f32` (its complement when `outside`); `None` or
    /// `lo > hi` is the empty range, the extreme finite values are no bound at all.
    pub(crate) fn between(input: usize, lo: Option<f32>, hi: Option<f32>, outside: bool) -> Self {
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Self::Always(outside);
        };
        if lo > hi {
            return Self::Always(outside);
        }
        let lo = (lo != -f32::MAX).then_some(Bound::closed(lo));
        let hi = (hi != f32::MAX).then_some(Bound::closed(hi));
        if lo.is_none() && hi.is_none() {
            return Self::Always(!outside);
        }
        Self::Range {
            input,
            lo,
            hi,
            outside,
        }
    }

    /// The cuts it compares against, as `(encoded input, value)`.
    pub(crate) fn cuts(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (input, ends) = match self {
            Self::Always(_) => (0, [None, None]),
            Self::Range { input, lo, hi, .. } => (*input, [*lo, *hi]),
        };
        ends.into_iter().flatten().map(move |b| (input, b.value))
    }

    /// Whether the branch goes true for value `x` of its input (the reference the comparison
    /// layer must reproduce).
    #[cfg(test)]
    pub(crate) fn holds(&self, x: f32) -> bool {
        match *self {
            Self::Always(b) => b,
            Self::Range {
                lo, hi, outside, ..
            } => {
                let above = lo.is_none_or(|b| if b.strict { x > b.value } else { x >= b.value });
                let below = hi.is_none_or(|b| if b.strict { x < b.value } else { x <= b.value });
                (above && below) != outside
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_branches_compare_like_the_tree() {
        let modes = [
            BranchMode::Leq,
            BranchMode::Lt,
            BranchMode::Gte,
            BranchMode::Gt,
            BranchMode::Eq,
            BranchMode::Neq,
        ];
        for mode in modes {
            let c = Condition::direct(0, mode, 1.5);
            for x in [-3.0f32, 1.0, 1.5, 1.5000001, 2.0] {
                assert_eq!(c.holds(x), mode.goes_true(x, 1.5), "{mode:?} at {x}");
            }
        }
    }

    #[test]
    fn ranges_at_the_extremes_are_constants() {
        assert_eq!(Condition::at_most(3, None), Condition::Always(false));
        assert_eq!(
            Condition::at_most(3, Some(f32::MAX)),
            Condition::Always(true)
        );
        assert_eq!(
            Condition::at_least(3, Some(-f32::MAX)),
            Condition::Always(true)
        );
        assert_eq!(
            Condition::between(3, Some(2.0), Some(1.0), true),
            Condition::Always(true)
        );
        let band = Condition::between(3, Some(-1.0), Some(1.0), true);
        assert!(band.holds(-2.0) && !band.holds(-1.0) && !band.holds(1.0) && band.holds(1.5));
        assert_eq!(band.cuts().collect::<Vec<_>>(), vec![(3, -1.0), (3, 1.0)]);
        assert_eq!(Condition::Always(true).cuts().count(), 0);
    }
}
