//! The six cells of one activation's requantization witness, by name.
//!
//! An activation cell group holds `x` (the activation, `0..=255`), `c` (−1: the requantized value
//! `t` is negative, 0: in range, 1: saturated), the remainder limbs `r0, r1` and the range witness
//! limbs `d0, d1`; `t = x + c·(1 + d)`. [`ActivationCells<usize>`] names their columns; the values an honest prover writes
//! there are [`ActivationCells::witness`] (in [`crate::units::requant`], beside the constraints
//! that check them).

/// Cells per activation: `x, c, r0, r1, d0, d1`.
pub const ACT_CELLS: usize = 6;

/// One activation's cells: their columns (`T = usize`), or the values they hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationCells<T = usize> {
    /// The activation `x = clamp(t, 0, 255)`.
    pub x: T,
    /// The case selector: −1 if `t < 0`, 0 if `0 ≤ t ≤ 255`, 1 if `t > 255`.
    pub c: T,
    /// Low limb of the remainder `r = r0 + 256·r1`.
    pub r0: T,
    /// High limb of the remainder.
    pub r1: T,
    /// Low limb of the range witness `d = d0 + 256·d1`.
    pub d0: T,
    /// High limb of the range witness.
    pub d1: T,
}

impl ActivationCells {
    /// The cells' offsets in a group, in column order.
    pub const OFFSETS: Self = Self::at(0);

    /// The columns of the group whose first column is `base`.
    pub const fn at(base: usize) -> Self {
        Self {
            x: base,
            c: base + 1,
            r0: base + 2,
            r1: base + 3,
            d0: base + 4,
            d1: base + 5,
        }
    }

    /// The cells' values in `row`.
    pub fn read<E: Copy>(self, row: &[E]) -> ActivationCells<E> {
        self.map(|col| row[col])
    }

    /// The limbs the lookup unit range-checks (`x` is checked too).
    pub fn limbs(self) -> [usize; 4] {
        [self.r0, self.r1, self.d0, self.d1]
    }
}

impl<T> ActivationCells<T> {
    /// The cells in column order.
    pub fn to_array(self) -> [T; ACT_CELLS] {
        [self.x, self.c, self.r0, self.r1, self.d0, self.d1]
    }

    /// Applies `f` to every cell.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> ActivationCells<U> {
        ActivationCells {
            x: f(self.x),
            c: f(self.c),
            r0: f(self.r0),
            r1: f(self.r1),
            d0: f(self.d0),
            d1: f(self.d1),
        }
    }

    /// Pairs each cell with the same cell of `other` (columns with values, say), in column
    /// order.
    pub fn zip<U>(self, other: ActivationCells<U>) -> [(T, U); ACT_CELLS] {
        let [a, b, c, d, e, f] = self.to_array();
        let [u, v, w, x, y, z] = other.to_array();
        [(a, u), (b, v), (c, w), (d, x), (e, y), (f, z)]
    }
}

/// Offset of the activation `x` in an activation cell group.
pub const ACT_X: usize = ActivationCells::OFFSETS.x;
/// Offset of the case selector `c`.
pub const ACT_C: usize = ActivationCells::OFFSETS.c;
/// Offset of the low remainder limb.
pub const ACT_R0: usize = ActivationCells::OFFSETS.r0;
/// Offset of the high remainder limb.
pub const ACT_R1: usize = ActivationCells::OFFSETS.r1;
/// Offset of the low range-witness limb.
pub const ACT_D0: usize = ActivationCells::OFFSETS.d0;
/// Offset of the high range-witness limb.
pub const ACT_D1: usize = ActivationCells::OFFSETS.d1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cells_are_six_consecutive_columns_in_order() {
        let cells = ActivationCells::at(40);
        assert_eq!(cells.to_array(), [40, 41, 42, 43, 44, 45]);
        assert_eq!(
            [ACT_X, ACT_C, ACT_R0, ACT_R1, ACT_D0, ACT_D1],
            [0, 1, 2, 3, 4, 5]
        );
        let row: [u32; 48] = core::array::from_fn(|i| 100 + i as u32);
        assert_eq!(cells.read(&row).to_array(), [140, 141, 142, 143, 144, 145]);
        assert_eq!(cells.limbs(), [42, 43, 44, 45]);
    }
}
