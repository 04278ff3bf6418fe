//! The base field and the embedding of signed integers in it.
//!
//! A leaf: every other file of the crate may import it, it imports nothing from the crate.

use winter_math::StarkField;

pub use winter_math::fields::f64::BaseElement as Felt;

/// Embeds a signed integer in the field (negative values wrap to `p - |v|`).
pub fn felt_from_i64(v: i64) -> Felt {
    if v >= 0 {
        Felt::new(v as u64)
    } else {
        -Felt::new(v.unsigned_abs())
    }
}

/// The signed integer a field element represents (values above `p/2` are negative).
pub fn felt_to_i64(v: Felt) -> i64 {
    let x = v.as_int();
    if x > Felt::MODULUS / 2 {
        -((Felt::MODULUS - x) as i64)
    } else {
        x as i64
    }
}

#[cfg(test)]
mod tests {
    use winter_math::FieldElement;

    use super::*;

    #[test]
    fn signed_integers_below_half_the_modulus_round_trip() {
        for v in [
            -(1 << 62),
            -(1 << 40),
            -256,
            -1,
            0,
            1,
            255,
            1 << 40,
            1 << 62,
        ] {
            assert_eq!(felt_to_i64(felt_from_i64(v)), v, "v = {v}");
        }
        assert_eq!(felt_from_i64(-1), Felt::ZERO - Felt::new(1));
    }
}
