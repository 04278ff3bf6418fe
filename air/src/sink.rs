//! Where the units write their constraints and assertions.
//!
//! A unit writes each transition constraint once, with its degree beside its expression
//! ([`Constraints::push`]), and each assertion once ([`Assertions::single`]). The same code runs
//! in two modes: when winterfell evaluates a frame, the values land in its result slice; when
//! [`InferenceAir`](crate::air::InferenceAir) is built, it runs the units once on an all-zero
//! frame to list the degrees and count the assertions. The lists winterfell needs up front are
//! therefore the evaluation's own, in the evaluation's order: there is no second list to keep in
//! step.

use alloc::vec::Vec;

use winter_air::{Assertion, TransitionConstraintDegree};
use winter_math::FieldElement;

/// The degree of one transition constraint: `base` in the trace cells, times a periodic column
/// of `cycle` rows where there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Degree {
    base: usize,
    cycle: Option<usize>,
}

impl Degree {
    /// Degree `base` in the trace cells.
    pub const fn new(base: usize) -> Self {
        Self { base, cycle: None }
    }

    /// Degree `base` in the trace cells, times a periodic column of `cycle` rows.
    /// A cycle of one row is a constant: no periodic factor.
    pub const fn cyclic(base: usize, cycle: usize) -> Self {
        Self {
            base,
            cycle: if cycle >= 2 { Some(cycle) } else { None },
        }
    }

    /// Winterfell's form.
    pub fn to_winterfell(self) -> TransitionConstraintDegree {
        match self.cycle {
            Some(r) => TransitionConstraintDegree::with_cycles(self.base, alloc::vec![r]),
            None => TransitionConstraintDegree::new(self.base),
        }
    }
}

enum Target<'a, E> {
    Evaluate(&'a mut [E]),
    List(Vec<Degree>),
}

/// One segment's transition constraints, in the order the units write them.
pub struct Constraints<'a, E> {
    target: Target<'a, E>,
    len: usize,
}

impl<'a, E: Copy> Constraints<'a, E> {
    /// Writes the values into `result` (winterfell's evaluation).
    pub fn evaluate(result: &'a mut [E]) -> Self {
        Self {
            target: Target::Evaluate(result),
            len: 0,
        }
    }

    /// Lists the degrees and drops the values (building the AIR).
    pub fn list() -> Self {
        Self {
            target: Target::List(Vec::new()),
            len: 0,
        }
    }

    /// The next constraint: its degree and its value on this frame.
    #[inline]
    pub fn push(&mut self, degree: Degree, value: E) {
        match &mut self.target {
            Target::Evaluate(out) => out[self.len] = value,
            Target::List(degrees) => degrees.push(degree),
        }
        self.len += 1;
    }

    /// Constraints written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none were written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The listed degrees, in winterfell's form (empty when evaluating).
    pub fn degrees(self) -> Vec<TransitionConstraintDegree> {
        match self.target {
            Target::List(degrees) => degrees.into_iter().map(Degree::to_winterfell).collect(),
            Target::Evaluate(_) => Vec::new(),
        }
    }
}

/// One segment's boundary assertions, in the order the units write them: collected, or only
/// counted (building the AIR, before the random elements some values need exist).
pub struct Assertions<E: FieldElement> {
    list: Option<Vec<Assertion<E>>>,
    len: usize,
}

impl<E: FieldElement> Assertions<E> {
    /// Collects the assertions.
    pub fn collect() -> Self {
        Self {
            list: Some(Vec::new()),
            len: 0,
        }
    }

    /// Counts them without computing a value.
    pub fn count() -> Self {
        Self { list: None, len: 0 }
    }

    /// `column` holds `value()` at `step`.
    pub fn single(&mut self, column: usize, step: usize, value: impl FnOnce() -> E) {
        if let Some(list) = &mut self.list {
            list.push(Assertion::single(column, step, value()));
        }
        self.len += 1;
    }

    /// `column` holds `values()[i]` at row `first + i·stride` (`first < stride`, `stride ≥ 2`, a
    /// power-of-two number of values covering the trace).
    pub fn sequence(
        &mut self,
        column: usize,
        first: usize,
        stride: usize,
        values: impl FnOnce() -> Vec<E>,
    ) {
        if let Some(list) = &mut self.list {
            list.push(Assertion::sequence(column, first, stride, values()));
        }
        self.len += 1;
    }

    /// Assertions written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none were written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The collected assertions (empty when counting).
    pub fn into_vec(self) -> Vec<Assertion<E>> {
        self.list.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Felt;

    #[test]
    fn both_modes_see_the_same_constraints() {
        let write = |out: &mut Constraints<'_, Felt>| {
            out.push(Degree::new(2), Felt::new(5));
            out.push(Degree::cyclic(1, 8), Felt::new(6));
        };
        let mut listed = Constraints::list();
        write(&mut listed);
        assert_eq!(listed.len(), 2);
        assert_eq!(
            listed.degrees(),
            alloc::vec![
                TransitionConstraintDegree::new(2),
                TransitionConstraintDegree::with_cycles(1, alloc::vec![8]),
            ]
        );
        let mut result = [Felt::ZERO; 2];
        let mut values = Constraints::evaluate(&mut result);
        write(&mut values);
        assert_eq!(values.len(), 2);
        assert_eq!(result, [Felt::new(5), Felt::new(6)]);
    }

    #[test]
    fn counting_assertions_computes_no_value() {
        let mut counted = Assertions::<Felt>::count();
        counted.single(3, 0, || panic!("a counted assertion's value was computed"));
        assert_eq!(counted.len(), 1);
        assert!(counted.into_vec().is_empty());
        let mut collected = Assertions::collect();
        collected.single(3, 7, || Felt::new(9));
        assert_eq!(
            collected.into_vec(),
            alloc::vec![Assertion::single(3, 7, Felt::new(9))]
        );
    }
}
