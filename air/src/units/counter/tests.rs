//! The counter unit on hand-built frames: a power column keeps its value inside a block and
//! steps by its factor after a block's last row; any other value breaks its constraint.

use alloc::vec::Vec;

use winter_math::FieldElement;

use super::constraints::constraints;
use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::{AuxFrame, MainFrame};
use crate::sink::Constraints;
use crate::units::test_layout;

#[test]
fn a_power_column_holds_inside_a_block_and_steps_after_its_last_row() {
    let layout = test_layout();
    let ch = Challenges::new(&layout);
    let r: Vec<Felt> = (0..ch.len as u64)
        .map(|i| Felt::new(1000 + 7 * i))
        .collect();
    let main = alloc::vec![Felt::ZERO; layout.main_width];
    let periodic_len = 2 * layout.block_lens.len() + layout.restart_flags.len();
    let region = &layout.regions[1];
    let Some(&(span, _)) = region.powers.steps.first() else {
        panic!("region 1 has more than one block");
    };
    let a = layout.aux.a[1];
    let residue = |last_row: bool, next_a: Felt| {
        let mut periodic = alloc::vec![Felt::ZERO; periodic_len];
        if last_row {
            periodic[2 * layout.block_len_index(span)] = Felt::ONE;
        }
        let mut cur = alloc::vec![Felt::ONE; layout.aux.width];
        cur[a] = Felt::new(5);
        let mut next = cur.clone();
        next[a] = next_a;
        let f = AuxFrame {
            main: MainFrame {
                cur: &main,
                next: &main,
            },
            cur: &cur,
            next: &next,
            periodic: &periodic,
            r: &r,
        };
        let mut result = alloc::vec![Felt::ZERO; layout.regions.len()];
        let mut out = Constraints::evaluate(&mut result);
        constraints(&layout, &ch, &f, &mut out);
        result[1]
    };
    let factor = Felt::ONE + r[ch.powers[1] + 1];
    assert_eq!(residue(false, Felt::new(5)), Felt::ZERO);
    assert_eq!(residue(true, Felt::new(5) * factor), Felt::ZERO);
    assert_ne!(
        residue(false, Felt::new(5) * factor),
        Felt::ZERO,
        "counter.a, a step inside a block"
    );
    assert_ne!(
        residue(true, Felt::new(5)),
        Felt::ZERO,
        "counter.a, a missed step"
    );
}
