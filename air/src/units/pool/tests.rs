//! The pool unit on hand-built windows: the maximum satisfies the constraint, and no other value
//! whose gaps pass the range checks does.

use winter_math::FieldElement;

use super::constraints::window_product;
use crate::field::{felt_from_i64, Felt};

/// True if `m` passes both checks on window `xs`: every gap in `0..256` and the product zero.
fn accepted(m: i64, xs: [i64; 4]) -> bool {
    let gaps_ok = xs.iter().all(|&x| (0..256).contains(&(m - x)));
    let product = window_product(felt_from_i64(m), xs.map(felt_from_i64));
    gaps_ok && product == Felt::ZERO
}

#[test]
fn only_the_maximum_passes() {
    for xs in [
        [0, 0, 0, 0],
        [3, 9, 9, 1],
        [255, 0, 17, 254],
        [7, 6, 5, 4],
        [0, 1, 0, 255],
    ] {
        let max = *xs.iter().max().unwrap_or(&0);
        for m in -300..600 {
            assert_eq!(accepted(m, xs), m == max, "m = {m}, window {xs:?}");
        }
    }
}

#[test]
fn a_smaller_window_member_breaks_a_gap_and_a_larger_value_the_product() {
    let xs = [3, 9, 8, 1];
    // another member of the window: the product holds, a gap is negative
    assert_eq!(
        window_product(Felt::new(8), xs.map(felt_from_i64)),
        Felt::ZERO
    );
    assert!(!accepted(8, xs));
    // above the maximum: every gap is in range, the product is not zero
    assert_ne!(
        window_product(Felt::new(10), xs.map(felt_from_i64)),
        Felt::ZERO
    );
}
