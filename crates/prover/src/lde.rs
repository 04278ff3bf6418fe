//! The trace's low-degree extension, kept as winterfell builds it: segments of
//! [`SEGMENT`] columns, each row-major over the extension domain. winterfell's own
//! `DefaultTraceLde` then copies the segments into one row-major matrix and holds both while
//! it does, twice the extension's memory at the proof's peak; here a row is gathered from the
//! segments where it is read (constraint frames, row hashes, query openings), so the peak
//! holds the extension once. Commitments and openings are the same as winterfell's: the
//! verifier cannot tell the two apart, and every proof test checks that.

use std::marker::PhantomData;

use rayon::prelude::*;
use winter_air::proof::Queries;
use winterfell::crypto::{ElementHasher, VectorCommitment};
use winterfell::math::FieldElement;
use winterfell::matrix::{build_segments, get_evaluation_offsets, ColMatrix, Segment};
use winterfell::{
    EvaluationFrame, PartitionOptions, StarkDomain, TraceInfo, TraceLde, TracePolyTable,
};

use glassbox_air::Felt;

/// Base-field columns per segment (winterfell's default segment width).
const SEGMENT: usize = 8;

thread_local! {
    /// A row's base elements, per constraint-evaluation thread.
    static ROW: std::cell::RefCell<Vec<Felt>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One extended trace segment (main or auxiliary) as column segments, with its commitment.
struct Extended<V> {
    segments: Vec<Segment<Felt, SEGMENT>>,
    /// Base-field elements per row.
    width: usize,
    commitment: V,
}

impl<V> Extended<V> {
    /// Interpolates `trace`'s columns, extends them over `domain` and commits to the rows as
    /// winterfell does (each row hashed, in `partitions`, then a vector commitment over the row
    /// hashes). Returns the extension and the column polynomials.
    fn new<E, H>(
        trace: &ColMatrix<E>,
        domain: &StarkDomain<Felt>,
        partitions: PartitionOptions,
    ) -> (Self, ColMatrix<E>)
    where
        E: FieldElement<BaseField = Felt>,
        H: ElementHasher<BaseField = Felt>,
        V: VectorCommitment<H>,
    {
        // the spans winterfell's own extension reports, for phase profiles
        let span = tracing::info_span!(
            "extend_execution_trace",
            num_cols = trace.num_cols(),
            blowup = domain.trace_to_lde_blowup()
        )
        .entered();
        let polys = trace.interpolate_columns();
        let offsets = get_evaluation_offsets::<E>(
            polys.num_rows(),
            domain.trace_to_lde_blowup(),
            domain.offset(),
        );
        let segments = build_segments::<E, SEGMENT>(&polys, domain.trace_twiddles(), &offsets);
        drop(span);
        let width = polys.num_base_cols();
        let rows = domain.lde_domain_size();
        let _span = tracing::info_span!(
            "compute_execution_trace_commitment",
            commitment_domain_size = rows
        )
        .entered();
        let columns = trace.num_cols();
        let part = partitions.partition_size::<E>(columns);
        let mut hashes = vec![H::Digest::default(); rows];
        hashes
            .par_chunks_mut(1024)
            .enumerate()
            .for_each(|(chunk, out)| {
                let mut row = vec![Felt::ZERO; width];
                let mut parts = Vec::new();
                for (i, hash) in out.iter_mut().enumerate() {
                    gather(&segments, chunk * 1024 + i, &mut row);
                    let elements = E::slice_from_base_elements(&row);
                    *hash = if part == columns {
                        H::hash_elements(elements)
                    } else {
                        parts.clear();
                        parts.extend(elements.chunks(part).map(H::hash_elements));
                        H::merge_many(&parts)
                    };
                }
            });
        let commitment = V::new(hashes).expect("a power-of-two number of row hashes");
        let extended = Self {
            segments,
            width,
            commitment,
        };
        (extended, polys)
    }

    /// Row `i` as elements of `E` (`buf` holds its base elements).
    fn row<'a, E: FieldElement<BaseField = Felt>>(
        &self,
        i: usize,
        buf: &'a mut Vec<Felt>,
    ) -> &'a [E] {
        buf.resize(self.width, Felt::ZERO);
        gather(&self.segments, i, buf);
        E::slice_from_base_elements(buf)
    }

    /// The rows at `positions` with their opening proof.
    fn query<E, H>(&self, positions: &[usize]) -> Queries
    where
        E: FieldElement<BaseField = Felt>,
        H: ElementHasher<BaseField = Felt>,
        V: VectorCommitment<H>,
    {
        let mut buf = Vec::new();
        let states: Vec<Vec<E>> = positions
            .iter()
            .map(|&p| self.row::<E>(p, &mut buf).to_vec())
            .collect();
        let (_, proof) = self
            .commitment
            .open_many(positions)
            .expect("query positions inside the extension domain");
        Queries::new::<H, E, V>(proof, states)
    }
}

/// Copies row `i` of `segments` (`out.len()` base elements) into `out`.
fn gather(segments: &[Segment<Felt, SEGMENT>], i: usize, out: &mut [Felt]) {
    for (dst, segment) in out.chunks_mut(SEGMENT).zip(segments) {
        dst.copy_from_slice(&segment[i][..dst.len()]);
    }
}

/// The extended main and auxiliary segments (see the module documentation).
pub struct SegmentedTraceLde<E, H, V> {
    main: Extended<V>,
    aux: Option<Extended<V>>,
    blowup: usize,
    info: TraceInfo,
    partitions: PartitionOptions,
    _marker: PhantomData<(E, H)>,
}

impl<E, H, V> SegmentedTraceLde<E, H, V>
where
    E: FieldElement<BaseField = Felt>,
    H: ElementHasher<BaseField = Felt>,
    V: VectorCommitment<H>,
{
    /// Extends and commits to the main segment `main`; returns the extension and the main
    /// segment's polynomials.
    pub fn new(
        info: &TraceInfo,
        main: &ColMatrix<Felt>,
        domain: &StarkDomain<Felt>,
        partitions: PartitionOptions,
    ) -> (Self, TracePolyTable<E>) {
        let (extended, polys) = Extended::<V>::new::<Felt, H>(main, domain, partitions);
        let lde = Self {
            main: extended,
            aux: None,
            blowup: domain.trace_to_lde_blowup(),
            info: info.clone(),
            partitions,
            _marker: PhantomData,
        };
        (lde, TracePolyTable::new(polys))
    }

    /// Rows of the extension.
    fn rows(&self) -> usize {
        self.main.segments.first().map_or(0, |s| s.num_rows())
    }
}

impl<E, H, V> TraceLde<E> for SegmentedTraceLde<E, H, V>
where
    E: FieldElement<BaseField = Felt>,
    H: ElementHasher<BaseField = Felt> + Sync,
    V: VectorCommitment<H> + Sync,
{
    type HashFn = H;
    type VC = V;

    fn get_main_trace_commitment(&self) -> H::Digest {
        self.main.commitment.commitment()
    }

    fn set_aux_trace(
        &mut self,
        aux: &ColMatrix<E>,
        domain: &StarkDomain<Felt>,
    ) -> (ColMatrix<E>, H::Digest) {
        assert!(self.aux.is_none(), "one auxiliary segment");
        let (extended, polys) = Extended::<V>::new::<E, H>(aux, domain, self.partitions);
        let commitment = extended.commitment.commitment();
        self.aux = Some(extended);
        (polys, commitment)
    }

    fn read_main_trace_frame_into(&self, step: usize, frame: &mut EvaluationFrame<Felt>) {
        let next = (step + self.blowup) % self.rows();
        gather(&self.main.segments, step, frame.current_mut());
        gather(&self.main.segments, next, frame.next_mut());
    }

    fn read_aux_trace_frame_into(&self, step: usize, frame: &mut EvaluationFrame<E>) {
        let aux = self.aux.as_ref().expect("the auxiliary segment is set");
        let next = (step + self.blowup) % self.rows();
        ROW.with_borrow_mut(|buf| {
            frame.current_mut().copy_from_slice(aux.row::<E>(step, buf));
            frame.next_mut().copy_from_slice(aux.row::<E>(next, buf));
        });
    }

    fn query(&self, positions: &[usize]) -> Vec<Queries> {
        let mut queries = vec![self.main.query::<Felt, H>(positions)];
        if let Some(aux) = &self.aux {
            queries.push(aux.query::<E, H>(positions));
        }
        queries
    }

    fn trace_len(&self) -> usize {
        self.rows()
    }

    fn blowup(&self) -> usize {
        self.blowup
    }

    fn trace_info(&self) -> &TraceInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use winterfell::crypto::{hashers::Blake3_256, MerkleTree};
    use winterfell::math::fields::QuadExtension;
    use winterfell::math::{fft, StarkField};
    use winterfell::DefaultTraceLde;

    use super::*;

    type H = Blake3_256<Felt>;
    type V = MerkleTree<H>;
    type E = QuadExtension<Felt>;

    /// `n` seeded field elements.
    fn column(n: usize, seed: u64) -> Vec<Felt> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Felt::new(x >> 1)
            })
            .collect()
    }

    /// Main and auxiliary columns not a multiple of the segment width (11 and 5 of degree 2),
    /// one and three hash partitions: the same commitments, polynomials, frames and openings
    /// as winterfell's `DefaultTraceLde`.
    #[test]
    fn the_segmented_extension_commits_reads_and_opens_as_winterfells_does() {
        let n = 64;
        let main = ColMatrix::new((0..11).map(|c| column(n, c)).collect());
        let aux: ColMatrix<E> = ColMatrix::new(
            (0..5)
                .map(|c| {
                    let (a, b) = (column(n, 100 + c), column(n, 200 + c));
                    a.into_iter().zip(b).map(|(a, b)| E::new(a, b)).collect()
                })
                .collect(),
        );
        let info = TraceInfo::new_multi_segment(11, 5, 2, n, Vec::new());
        let domain = StarkDomain::from_twiddles(fft::get_twiddles::<Felt>(n), 4, Felt::GENERATOR);
        for partitions in [PartitionOptions::default(), PartitionOptions::new(3, 1)] {
            let (mut ours, our_polys) =
                SegmentedTraceLde::<E, H, V>::new(&info, &main, &domain, partitions);
            let (mut theirs, their_polys) =
                DefaultTraceLde::<E, H, V>::new(&info, &main, &domain, partitions);
            assert_eq!(
                ours.get_main_trace_commitment(),
                theirs.get_main_trace_commitment()
            );
            assert!(our_polys
                .main_trace_polys()
                .eq(their_polys.main_trace_polys()));
            let (our_aux, our_root) = ours.set_aux_trace(&aux, &domain);
            let (their_aux, their_root) = theirs.set_aux_trace(&aux, &domain);
            assert_eq!(our_root, their_root);
            for c in 0..5 {
                assert_eq!(our_aux.get_column(c), their_aux.get_column(c));
            }
            let rows = ours.trace_len();
            assert_eq!(rows, theirs.trace_len());
            assert_eq!(ours.blowup(), theirs.blowup());
            for step in [0, 1, 9, rows - 8, rows - 1] {
                let (mut a, mut b) = (EvaluationFrame::new(11), EvaluationFrame::new(11));
                ours.read_main_trace_frame_into(step, &mut a);
                theirs.read_main_trace_frame_into(step, &mut b);
                assert_eq!((a.current(), a.next()), (b.current(), b.next()));
                let (mut a, mut b) = (EvaluationFrame::<E>::new(5), EvaluationFrame::new(5));
                ours.read_aux_trace_frame_into(step, &mut a);
                theirs.read_aux_trace_frame_into(step, &mut b);
                assert_eq!((a.current(), a.next()), (b.current(), b.next()));
            }
            let positions = [3, 17, 200, rows - 1];
            assert_eq!(ours.query(&positions), theirs.query(&positions));
        }
    }
}
