//! The weight columns' low-degree extension, kept with the program.
//!
//! The weight commitment hashes every row of the weight columns' extension over the commitment
//! domain (see [`glassbox_air::commitment`]); every proof then extends the same columns again as
//! part of its main trace. A program keeps the extension it committed to (winterfell's column
//! segments, eight columns each, and the columns' polynomials) so the prover can reuse it for any
//! trace whose weight columns are still these ([`WeightExtension::extends`]).

use glassbox_air::commitment::{weight_leaf, WEIGHT_BLOWUP};
use glassbox_air::Felt;
use rayon::prelude::*;
use winter_math::{fft, FieldElement, StarkField};
use winterfell::matrix::{build_segments, get_evaluation_offsets, ColMatrix, Segment};

/// Base-field columns per segment.
pub const SEGMENT_WIDTH: usize = 8;

/// Weight columns with their polynomials and their evaluations over the commitment domain
/// (`N · WEIGHT_BLOWUP` points `g·ω^i`, `g` the field's generator, in natural order).
#[derive(Clone, Debug)]
pub struct WeightExtension {
    columns: Vec<Vec<Felt>>,
    polys: ColMatrix<Felt>,
    segments: Vec<Segment<Felt, SEGMENT_WIDTH>>,
}

impl WeightExtension {
    /// Interpolates and extends `columns` (at least one, all of one power-of-two length).
    pub fn new(columns: &[Vec<Felt>]) -> Self {
        let polys = ColMatrix::new(columns.to_vec()).interpolate_columns_into();
        let n = polys.num_rows();
        let offsets = get_evaluation_offsets::<Felt>(n, WEIGHT_BLOWUP, Felt::GENERATOR);
        let twiddles = fft::get_twiddles::<Felt>(n);
        let segments = build_segments::<Felt, SEGMENT_WIDTH>(&polys, &twiddles, &offsets);
        Self {
            columns: columns.to_vec(),
            polys,
            segments,
        }
    }

    /// True if this is the extension of `columns`, a trace's weight columns over a domain of
    /// `lde_rows` rows with blowup `blowup` and offset `offset`.
    pub fn extends(
        &self,
        columns: &[&[Felt]],
        lde_rows: usize,
        blowup: usize,
        offset: Felt,
    ) -> bool {
        blowup == WEIGHT_BLOWUP
            && offset == Felt::GENERATOR
            && self.rows() == lde_rows
            && self.columns.len() == columns.len()
            && self.columns.iter().zip(columns).all(|(a, b)| a == b)
    }

    /// The columns' polynomials.
    pub fn polys(&self) -> &ColMatrix<Felt> {
        &self.polys
    }

    /// The extension, as winterfell's `build_segments` returns it.
    pub fn segments(&self) -> &[Segment<Felt, SEGMENT_WIDTH>] {
        &self.segments
    }

    /// Rows of the extension.
    pub fn rows(&self) -> usize {
        self.segments.first().map_or(0, |s| s.num_rows())
    }

    /// Copies row `i`'s weights into `out` (one cell per column).
    pub fn read_row(&self, i: usize, out: &mut [Felt]) {
        read_segment_row(&self.segments, i, out);
    }

    /// The commitment tree's leaves: every row hashed.
    pub fn leaves(&self) -> Vec<[u8; 32]> {
        let width = self.columns.len();
        (0..self.rows())
            .into_par_iter()
            .map_init(
                || vec![Felt::ZERO; width],
                |row, i| {
                    self.read_row(i, row);
                    weight_leaf(row)
                },
            )
            .collect()
    }
}

/// Copies row `i` of an extension stored as `segments` (`out.len()` base elements, the first
/// columns of the segments in order) into `out`.
pub fn read_segment_row(segments: &[Segment<Felt, SEGMENT_WIDTH>], i: usize, out: &mut [Felt]) {
    for (dst, segment) in out.chunks_mut(SEGMENT_WIDTH).zip(segments) {
        dst.copy_from_slice(&segment[i][..dst.len()]);
    }
}
