//! The witness of one activation: the values of `x, c, r0, r1, d0, d1` for a given
//! requantization, written once for the trace builder and the tests.

use crate::layout::ActivationCells;
use crate::limits::{ACT_MAX, REQUANT_SHIFT};

impl ActivationCells<i64> {
    /// The cells of an activation whose requantization `acc·M + 2^15 = t·2^16 + r` gives `t`
    /// with remainder `r` (`0 ≤ r < 2^16`): `x = clamp(t, 0, 255)`, the case of `t`, the
    /// remainder's limbs and the range witness `d` (`−t − 1` for a negative `t`, `t − 256` for a
    /// saturated one, else 0), so that `t = x + c·(1 + d)`.
    pub fn witness(t: i64, remainder: i64) -> Self {
        let (c, d) = if t < 0 {
            (-1, -t - 1)
        } else if t > ACT_MAX {
            (1, t - ACT_MAX - 1)
        } else {
            (0, 0)
        };
        Self {
            x: t.clamp(0, ACT_MAX),
            c,
            r0: remainder & 0xff,
            r1: remainder >> 8,
            d0: d & 0xff,
            d1: d >> 8,
        }
    }

    /// The cells of accumulator `acc` requantized by `multiplier` (`None` if `acc·M` overflows).
    pub fn requantize(acc: i64, multiplier: u32) -> Option<Self> {
        let scaled = acc
            .checked_mul(i64::from(multiplier))?
            .checked_add(1 << (REQUANT_SHIFT - 1))?;
        let t = scaled >> REQUANT_SHIFT;
        Some(Self::witness(t, scaled - (t << REQUANT_SHIFT)))
    }

    /// The cells of a zero accumulator under any multiplier (`t = 0`, `r = 2^15`): what the
    /// dead lanes of an activation region hold.
    pub fn zero() -> Self {
        Self::witness(0, 1 << (REQUANT_SHIFT - 1))
    }
}
