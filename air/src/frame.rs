//! What the units read when they evaluate constraints: a main row pair, or the main and
//! auxiliary row pairs with the periodic block flags and the random elements (the columns
//! themselves are built in [`crate::periodic`]).
//!
//! Periodic columns: two flags per distinct block length (its last and second-to-last row),
//! then one restart flag per region shape with dead rows (see
//! [`RegionLayout::restarts_after`]), then one upper-half flag per linear patch layer shape (see
//! [`Layout::half_flags`]).

use winter_air::EvaluationFrame;
use winter_math::{ExtensionOf, FieldElement};

use crate::field::Felt;
use crate::layout::{Layout, RegionLayout};

/// The current and next rows of the main segment.
#[derive(Clone, Copy)]
pub struct MainFrame<'a, E> {
    /// The current row.
    pub cur: &'a [E],
    /// The next row.
    pub next: &'a [E],
}

impl<'a, E: FieldElement> MainFrame<'a, E> {
    /// Winterfell's frame.
    pub fn new(frame: &'a EvaluationFrame<E>) -> Self {
        Self {
            cur: frame.current(),
            next: frame.next(),
        }
    }
}

/// The current and next rows of both segments, the periodic values and the random elements.
#[derive(Clone, Copy)]
pub struct AuxFrame<'a, F, E> {
    /// The main segment's rows.
    pub main: MainFrame<'a, F>,
    /// The auxiliary segment's current row.
    pub cur: &'a [E],
    /// The auxiliary segment's next row.
    pub next: &'a [E],
    /// The periodic columns' values on this row.
    pub periodic: &'a [F],
    /// The expanded random elements (see [`crate::challenges::Challenges`]).
    pub r: &'a [E],
}

impl<F, E> AuxFrame<'_, F, E>
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    /// The flags of the last and second-to-last row of every `block_len`-row block.
    pub fn flags(&self, layout: &Layout, block_len: usize) -> (E, E) {
        // a one-row block: every row is its last, and none is its second-to-last (the
        // accumulator adds such blocks from the current row, see `units::product`)
        if block_len == 1 {
            return (E::ONE, E::ZERO);
        }
        let bi = layout.block_len_index(block_len);
        (
            E::from(self.periodic[flag_last(bi)]),
            E::from(self.periodic[flag_penult(bi)]),
        )
    }

    /// The flag on the last rows of the blocks in the upper half of each `span`-row plane of
    /// `block_len`-row blocks (a linear patch layer's back-reading offsets).
    pub fn half(&self, layout: &Layout, span: usize, block_len: usize) -> E {
        let at = 2 * layout.block_lens.len()
            + layout.restart_flags.len()
            + layout.half_flag_index(span, block_len);
        E::from(self.periodic[at])
    }

    /// Where a region's lane sums restart: after each block, and after its dead rows.
    pub fn restart(&self, layout: &Layout, region: &RegionLayout) -> E {
        match layout.restart_flag_index(region) {
            Some(f) => E::from(self.periodic[2 * layout.block_lens.len() + f]),
            None => self.flags(layout, region.block_len).0,
        }
    }
}

fn flag_last(bi: usize) -> usize {
    2 * bi
}

fn flag_penult(bi: usize) -> usize {
    2 * bi + 1
}
