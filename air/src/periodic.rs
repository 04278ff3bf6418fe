//! The periodic columns, their values and their polynomials in closed form.
//!
//! Every periodic column of a layout is an indicator over one cycle of `S` rows
//! ([`PeriodicColumn`]): of one row (a block's last or second-to-last row), two rows (a region's
//! restarts) or every block end of the cycle's upper half (a linear patch layer's back-reading
//! offsets). The polynomial `p` with `p(ω^r) = c[r]` (`ω` the cycle's root of unity) has the
//! coefficients `a_k = S⁻¹ Σ_r c[r] ω^(−kr)`, which for these columns take `O(S)` field
//! operations where winterfell's default interpolates every column by an FFT (`O(S log S)`):
//! the verifier builds them on every proof, and a 32768-row trace has several full-length
//! cycles. Values and polynomials come from the same list of columns, so they agree in order
//! and content by construction.

use alloc::vec::Vec;

use winter_math::{batch_inversion, FieldElement, StarkField};

use crate::field::Felt;
use crate::layout::Layout;

/// One periodic column: a cycle of rows, 1 at some of them and 0 elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PeriodicColumn {
    /// 1 at `rows` (sorted, distinct, below `len`) of each cycle of `len` rows.
    Rows { len: usize, rows: Vec<usize> },
    /// 1 at every block end (`r % block_len == block_len − 1`) of the upper half
    /// (`r ≥ span/2`) of each cycle of `span` rows.
    UpperBlockEnds { span: usize, block_len: usize },
}

impl PeriodicColumn {
    /// The indicator of `rows` over cycles of `len` (repeats count once).
    fn rows(len: usize, mut rows: Vec<usize>) -> Self {
        rows.sort_unstable();
        rows.dedup();
        Self::Rows { len, rows }
    }

    /// The column's values over one cycle.
    fn values(&self) -> Vec<Felt> {
        match self {
            Self::Rows { len, rows } => {
                let mut c = alloc::vec![Felt::ZERO; *len];
                rows.iter().for_each(|&r| c[r] = Felt::ONE);
                c
            }
            &Self::UpperBlockEnds { span, block_len } => (0..span)
                .map(|r| Felt::from(u8::from(r >= span / 2 && r % block_len == block_len - 1)))
                .collect(),
        }
    }

    /// The coefficients of the column's polynomial over one cycle.
    fn poly(&self) -> Vec<Felt> {
        match self {
            Self::Rows { len, rows } => indicator(*len, rows),
            &Self::UpperBlockEnds { span, block_len } => upper_block_ends(span, block_len),
        }
    }
}

/// The periodic columns of `layout`, in the order [`AuxFrame::flags`](crate::frame::AuxFrame)
/// and `AuxFrame::restart` read them: each block length's last and second-to-last rows, each
/// region restart (a block's last row and the last of its dead rows), each linear patch layer's
/// upper-half block ends.
fn periodic(layout: &Layout) -> Vec<PeriodicColumn> {
    let mut cols = Vec::new();
    for &len in &layout.block_lens {
        for pos in [len - 1, len - 2] {
            cols.push(PeriodicColumn::rows(len, alloc::vec![pos]));
        }
    }
    for &(len, dead) in &layout.restart_flags {
        cols.push(PeriodicColumn::rows(len, alloc::vec![len - 1, dead - 1]));
    }
    for &(span, block_len) in &layout.half_flags {
        cols.push(PeriodicColumn::UpperBlockEnds { span, block_len });
    }
    cols
}

/// The periodic columns' values over one cycle each (see [`periodic`] for the order).
pub fn periodic_columns(layout: &Layout) -> Vec<Vec<Felt>> {
    periodic(layout)
        .iter()
        .map(PeriodicColumn::values)
        .collect()
}

/// The polynomials of [`periodic_columns`]`(layout)`, in the same order.
pub fn periodic_polys(layout: &Layout) -> Vec<Vec<Felt>> {
    periodic(layout).iter().map(PeriodicColumn::poly).collect()
}

/// The primitive `len`-th root of unity winterfell interpolates over, and `len⁻¹`.
fn root_and_scale(len: usize) -> (Felt, Felt) {
    let root = Felt::get_root_of_unity(len.trailing_zeros());
    (root, Felt::new(len as u64).inv())
}

/// `a_k = S⁻¹ ω^(k·x)` at `k = 0..S` (`step = ω^x`), added to `out`.
fn add_powers(out: &mut [Felt], step: Felt, scale: Felt) {
    let mut term = scale;
    for a in out.iter_mut() {
        *a += term;
        term *= step;
    }
}

/// The polynomial of [`PeriodicColumn::Rows`].
fn indicator(len: usize, rows: &[usize]) -> Vec<Felt> {
    let (root, scale) = root_and_scale(len);
    let inverse = root.inv();
    let mut out = alloc::vec![Felt::ZERO; len];
    for &r in rows {
        if r < len {
            add_powers(&mut out, inverse.exp(r as u64), scale);
        }
    }
    out
}

/// The polynomial of [`PeriodicColumn::UpperBlockEnds`] (`S = span`, `b = block_len`).
///
/// With `t = ω^(−k)` and `M = S/(2b)` ones at `S/2 + b − 1 + j·b`:
/// `a_k = S⁻¹ t^(S/2 + b − 1) Σ_(j < M) t^(jb)`. Where `t^b = 1` (`k` a multiple of `S/b`, so
/// even) that is `S⁻¹·M·t⁻¹`; otherwise the geometric sum is `(1 − t^(S/2))/(1 − t^b)` with
/// `t^(S/2) = (−1)^k`: zero for even `k`, and `−2·S⁻¹·t^(b − 1)/(1 − t^b)` for odd `k`.
fn upper_block_ends(span: usize, b: usize) -> Vec<Felt> {
    if b == 0 || span < 2 * b {
        return alloc::vec![Felt::ZERO; span];
    }
    let (root, scale) = root_and_scale(span);
    let inverse = root.inv();
    let period = span / b;
    let ones = Felt::new((span / (2 * b)) as u64);
    let mut out = alloc::vec![Felt::ZERO; span];
    // odd k: t^b = ω^(−kb) and t⁻¹ = ω^k step by two; 1 − t^b inverted in one batch
    let (mut tb, step_b) = (inverse.exp(b as u64), inverse.exp(2 * b as u64));
    let (mut t_inv, step) = (root, root.square());
    let mut numerators = Vec::with_capacity(span / 2);
    let mut denominators = Vec::with_capacity(span / 2);
    for _ in 0..span / 2 {
        numerators.push(tb * t_inv);
        denominators.push(Felt::ONE - tb);
        tb *= step_b;
        t_inv *= step;
    }
    let minus_two = -(scale + scale);
    let inverted = batch_inversion(&denominators);
    for (i, (n, d)) in numerators.into_iter().zip(inverted).enumerate() {
        out[2 * i + 1] = minus_two * n * d;
    }
    // k a multiple of S/b: S⁻¹·M·ω^k
    let stride = root.exp(period as u64);
    let mut w = Felt::ONE;
    for k in (0..span).step_by(period) {
        out[k] = scale * ones * w;
        w *= stride;
    }
    out
}

#[cfg(test)]
mod tests {
    use winter_math::fft;

    use super::*;

    /// winterfell's interpolation of `column` (its default `get_periodic_column_polys`).
    fn interpolated(column: &[Felt]) -> Vec<Felt> {
        let mut poly = column.to_vec();
        let twiddles = fft::get_inv_twiddles::<Felt>(column.len());
        fft::interpolate_poly(&mut poly, &twiddles);
        poly
    }

    #[test]
    fn closed_forms_equal_winterfells_interpolation() {
        for len in [2, 4, 16, 256] {
            for rows in [&[len - 1][..], &[len - 2], &[len - 1, len / 2 - 1]] {
                let mut column = alloc::vec![Felt::ZERO; len];
                rows.iter().for_each(|&r| column[r] = Felt::ONE);
                assert_eq!(
                    indicator(len, rows),
                    interpolated(&column),
                    "{len} {rows:?}"
                );
            }
        }
        for (span, b) in [
            (2, 1),
            (4, 1),
            (4, 2),
            (8, 2),
            (64, 4),
            (256, 1),
            (256, 16),
            (1024, 8),
        ] {
            let column: Vec<Felt> = (0..span)
                .map(|r| Felt::from(u8::from(r >= span / 2 && r % b == b - 1)))
                .collect();
            assert_eq!(
                upper_block_ends(span, b),
                interpolated(&column),
                "{span} {b}"
            );
        }
    }
}
