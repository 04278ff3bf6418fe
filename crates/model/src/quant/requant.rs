//! The exact integer requantization rule (step 3 of the [integer semantics](crate::quant)).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

// The constants of the rule are the AIR's, which proves it: the fractional bits of the multiplier
// (`MULTIPLIER_SHIFT`), multipliers `1 <= M < MAX_MULTIPLIER` (quantized MLP layers use
// `M < 2^16`; larger ones make step functions, the tree comparisons), the requantized range
// `T_MIN..=T_MAX` the range checks cover, and the largest hidden activation (u8).
pub(crate) use glassbox_air::{
    ACT_MAX, MAX_MULTIPLIER, REQUANT_SHIFT as MULTIPLIER_SHIFT, T_MAX, T_MIN,
};

/// The result of [`requantize`]: `acc · M + 2^15 = t · 2^16 + remainder`, `x = clamp(t, 0, 255)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requantized {
    /// `floor((acc · M + 2^15) / 2^16)`.
    pub t: i64,
    /// `0 <= remainder < 2^16`.
    pub remainder: i64,
    /// The activation `clamp(t, 0, 255)`.
    pub x: i64,
}

/// Requantizes one hidden accumulator.
///
/// Errors carry `layer: 0, index: 0`; use [`requantize_at`] to report the real position.
///
/// # Errors
/// [`ModelError::InvalidMultiplier`], [`ModelError::ArithmeticOverflow`], or
/// [`ModelError::ActivationOverflow`] if `t` is outside [`T_MIN`]`..=`[`T_MAX`].
pub fn requantize(acc: i64, multiplier: u32) -> Result<Requantized> {
    requantize_at(acc, multiplier, 0, 0)
}

/// [`requantize`] reporting `layer` and `index` in an [`ModelError::ActivationOverflow`].
///
/// # Errors
/// As [`requantize`].
pub fn requantize_at(acc: i64, multiplier: u32, layer: usize, index: usize) -> Result<Requantized> {
    if multiplier == 0 || multiplier >= MAX_MULTIPLIER {
        return Err(ModelError::InvalidMultiplier { value: multiplier });
    }
    let v = acc
        .checked_mul(i64::from(multiplier))
        .and_then(|v| v.checked_add(1 << (MULTIPLIER_SHIFT - 1)))
        .ok_or_else(|| ModelError::ArithmeticOverflow {
            context: format!("requantize(acc = {acc}, M = {multiplier})"),
        })?;
    let t = v >> MULTIPLIER_SHIFT;
    let remainder = v - (t << MULTIPLIER_SHIFT);
    if !(T_MIN..=T_MAX).contains(&t) {
        return Err(ModelError::ActivationOverflow {
            layer,
            index,
            value: t,
        });
    }
    Ok(Requantized {
        t,
        remainder,
        x: t.clamp(0, ACT_MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_at_half() {
        // acc = 1, M = 2^15: acc * M / 2^16 = 0.5; (2^15 + 2^15) >> 16 = 1, remainder 0: 0.5 rounds up.
        let r = requantize(1, 1 << 15).unwrap();
        assert_eq!((r.t, r.remainder, r.x), (1, 0, 1));
        // acc = -1, M = 2^15: (-2^15 + 2^15) >> 16 = 0: -0.5 rounds up (towards +inf) to 0.
        let r = requantize(-1, 1 << 15).unwrap();
        assert_eq!((r.t, r.remainder, r.x), (0, 0, 0));
        // acc = 3, M = 2^15: 1.5 → 2.
        assert_eq!(requantize(3, 1 << 15).unwrap().t, 2);
        // -1.5 → -1.
        assert_eq!(requantize(-3, 1 << 15).unwrap().t, -1);
    }

    #[test]
    fn negative_acc_floors_and_remainder_in_range() {
        let r = requantize(-100_000, 3).unwrap();
        // -300000 + 32768 = -267232 = -5 * 65536 + 60448
        assert_eq!((r.t, r.remainder, r.x), (-5, 60448, 0));
        for acc in [-1_000_000i64, -65537, -1, 0, 1, 65535, 999_999] {
            for m in [1u32, 2, 12345, 65535] {
                let r = match requantize(acc, m) {
                    Ok(r) => r,
                    Err(ModelError::ActivationOverflow { value, .. }) => {
                        assert!(!(T_MIN..=T_MAX).contains(&value));
                        continue;
                    }
                    Err(e) => panic!("{e}"),
                };
                assert!((0..65536).contains(&r.remainder));
                assert_eq!(acc * i64::from(m) + 32768, r.t * 65536 + r.remainder);
            }
        }
    }

    #[test]
    fn clamps_at_0_and_255() {
        assert_eq!(requantize(-10, 65535).unwrap().x, 0);
        let r = requantize(300, 65535).unwrap(); // t = 300 (300*65535+32768 >> 16 = 299.99.. + .5)
        assert_eq!((r.t, r.x), (300, 255));
        assert_eq!(requantize(255, 65535).unwrap().x, 255);
        assert_eq!(requantize(256, 65535).unwrap().x, 255);
    }

    #[test]
    fn overflow_limits() {
        // t = T_MAX is accepted, T_MAX + 1 is not: with M = 1 << 15 t = round(acc / 2).
        assert_eq!(requantize(2 * T_MAX, 1 << 15).unwrap().t, T_MAX);
        assert!(matches!(
            requantize_at(2 * T_MAX + 2, 1 << 15, 3, 7),
            Err(ModelError::ActivationOverflow { layer: 3, index: 7, value }) if value == T_MAX + 1
        ));
        assert_eq!(requantize(2 * T_MIN, 1 << 15).unwrap().t, T_MIN);
        assert!(matches!(
            requantize(2 * T_MIN - 2, 1 << 15),
            Err(ModelError::ActivationOverflow { value, .. }) if value == T_MIN - 1
        ));
        assert!(matches!(
            requantize(i64::MAX / 2, 65535),
            Err(ModelError::ArithmeticOverflow { .. })
        ));
        // A step: M = 255·2^16 maps every positive accumulator to 255 and the rest to 0.
        let step = 255 << MULTIPLIER_SHIFT;
        assert_eq!(requantize(1, step).unwrap().x, 255);
        assert_eq!(requantize(0, step).unwrap().x, 0);
        assert_eq!(requantize(254, step).unwrap().t, 254 * 255);
        assert!(matches!(
            requantize(1, 0),
            Err(ModelError::InvalidMultiplier { value: 0 })
        ));
        assert!(matches!(
            requantize(1, MAX_MULTIPLIER),
            Err(ModelError::InvalidMultiplier { .. })
        ));
    }
}
