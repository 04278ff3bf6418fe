//! The trace's low-degree extension, kept as winterfell builds it: segments of
//! [`SEGMENT`] columns, each row-major over the extension domain. winterfell's own
//! `DefaultTraceLde` then copies the segments into one row-major matrix and holds both while
//! it does, twice the extension's memory at the proof's peak; here a row is gathered from the
//! segments where it is read (constraint frames, row hashes, query openings), so the peak
//! holds the extension once. The program's weight columns are not extended again: the
//! extension its weight commitment hashed is reused (as long as the trace still holds those
//! weights). Commitments and openings are the same as winterfell's: the verifier cannot tell
//! the two apart, and every proof test checks that.

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use winter_air::proof::Queries;
use winterfell::crypto::{ElementHasher, VectorCommitment};
use winterfell::math::FieldElement;
use winterfell::matrix::{build_segments, get_evaluation_offsets, ColMatrix, Segment};
use winterfell::{
    EvaluationFrame, PartitionOptions, StarkDomain, TraceInfo, TraceLde, TracePolyTable,
};

use glassbox_air::Felt;
use glassbox_trace::{read_segment_row, WeightExtension, SEGMENT_WIDTH};

/// Base-field columns per segment (winterfell's default segment width, and the program's
/// weight extension's).
const SEGMENT: usize = SEGMENT_WIDTH;

thread_local! {
    /// A row's base elements, per constraint-evaluation thread.
    static ROW: std::cell::RefCell<Vec<Felt>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The extension of a run of consecutive columns.
enum Part {
    /// Extended for this proof (segments, base elements per row).
    Own(Vec<Segment<Felt, SEGMENT>>, usize),
    /// The program's weight columns, extended when it was compiled.
    Weights(Arc<WeightExtension>, usize),
}

impl Part {
    /// Interpolates `columns` and extends them over `domain`; returns the part and the
    /// polynomials.
    fn extend<E: FieldElement<BaseField = Felt>>(
        columns: ColMatrix<E>,
        domain: &StarkDomain<Felt>,
    ) -> (Self, ColMatrix<E>) {
        let polys = columns.interpolate_columns_into();
        let offsets = get_evaluation_offsets::<E>(
            polys.num_rows(),
            domain.trace_to_lde_blowup(),
            domain.offset(),
        );
        let segments = build_segments::<E, SEGMENT>(&polys, domain.trace_twiddles(), &offsets);
        (Self::Own(segments, polys.num_base_cols()), polys)
    }

    fn width(&self) -> usize {
        match self {
            Self::Own(_, w) | Self::Weights(_, w) => *w,
        }
    }

    /// Copies row `i` (`self.width()` base elements) into `out`.
    fn read(&self, i: usize, out: &mut [Felt]) {
        let segments = match self {
            Self::Own(segments, _) => segments,
            Self::Weights(extension, _) => extension.segments(),
        };
        read_segment_row(segments, i, out);
    }
}

/// One extended trace segment (main or auxiliary) as parts of consecutive columns, with its
/// commitment.
struct Extended<V> {
    parts: Vec<Part>,
    /// Base-field elements per row.
    width: usize,
    commitment: V,
}

impl<V> Extended<V> {
    /// Interpolates `trace`'s columns, extends them over `domain` and commits to the rows (see
    /// [`Extended::commit`]). Returns the extension and the column polynomials.
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
        let span = extension_span(trace.num_cols(), domain);
        let (part, polys) = Part::extend(trace.clone(), domain);
        drop(span);
        let extended = Self::commit::<E, H>(vec![part], trace.num_cols(), domain, partitions);
        (extended, polys)
    }

    /// [`Extended::new`] for a main segment whose columns `weights` are the program's weight
    /// columns, whose extension `extension` is reused.
    fn with_weights<H>(
        main: &ColMatrix<Felt>,
        weights: Range<usize>,
        extension: Arc<WeightExtension>,
        domain: &StarkDomain<Felt>,
        partitions: PartitionOptions,
    ) -> (Self, ColMatrix<Felt>)
    where
        H: ElementHasher<BaseField = Felt>,
        V: VectorCommitment<H>,
    {
        let span = extension_span(main.num_cols(), domain);
        let own = |range: Range<usize>| {
            let columns: Vec<Vec<Felt>> = range.map(|c| main.get_column(c).to_vec()).collect();
            (!columns.is_empty()).then(|| Part::extend(ColMatrix::new(columns), domain))
        };
        let left = own(0..weights.start);
        let right = own(weights.end..main.num_cols());
        drop(span);
        let mut parts = Vec::with_capacity(3);
        let mut polys: Vec<Vec<Felt>> = Vec::with_capacity(main.num_cols());
        if let Some((part, p)) = left {
            parts.push(part);
            polys.extend(p.into_columns());
        }
        polys.extend(extension.polys().columns().map(<[Felt]>::to_vec));
        parts.push(Part::Weights(extension, weights.len()));
        if let Some((part, p)) = right {
            parts.push(part);
            polys.extend(p.into_columns());
        }
        let extended = Self::commit::<Felt, H>(parts, main.num_cols(), domain, partitions);
        (extended, ColMatrix::new(polys))
    }

    /// Commits to the rows of `parts` (`columns` columns of `E`) as winterfell does: each row
    /// hashed, in `partitions`, then a vector commitment over the row hashes.
    fn commit<E, H>(
        parts: Vec<Part>,
        columns: usize,
        domain: &StarkDomain<Felt>,
        partitions: PartitionOptions,
    ) -> Self
    where
        E: FieldElement<BaseField = Felt>,
        H: ElementHasher<BaseField = Felt>,
        V: VectorCommitment<H>,
    {
        let width = parts.iter().map(Part::width).sum();
        let rows = domain.lde_domain_size();
        let _span = tracing::info_span!(
            "compute_execution_trace_commitment",
            commitment_domain_size = rows
        )
        .entered();
        let part = partitions.partition_size::<E>(columns);
        let mut hashes = vec![H::Digest::default(); rows];
        hashes
            .par_chunks_mut(1024)
            .enumerate()
            .for_each(|(chunk, out)| {
                let mut row = vec![Felt::ZERO; width];
                let mut hashed = Vec::new();
                for (i, hash) in out.iter_mut().enumerate() {
                    gather(&parts, chunk * 1024 + i, &mut row);
                    let elements = E::slice_from_base_elements(&row);
                    *hash = if part == columns {
                        H::hash_elements(elements)
                    } else {
                        hashed.clear();
                        hashed.extend(elements.chunks(part).map(H::hash_elements));
                        H::merge_many(&hashed)
                    };
                }
            });
        Self {
            parts,
            width,
            commitment: V::new(hashes).expect("a power-of-two number of row hashes"),
        }
    }

    /// Row `i` as elements of `E` (`buf` holds its base elements).
    fn row<'a, E: FieldElement<BaseField = Felt>>(
        &self,
        i: usize,
        buf: &'a mut Vec<Felt>,
    ) -> &'a [E] {
        buf.resize(self.width, Felt::ZERO);
        gather(&self.parts, i, buf);
        E::slice_from_base_elements(buf)
    }

    /// Rows of the extension.
    fn rows(&self) -> usize {
        match self.parts.first() {
            Some(Part::Own(segments, _)) => segments.first().map_or(0, |s| s.num_rows()),
            Some(Part::Weights(extension, _)) => extension.rows(),
            None => 0,
        }
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

/// Copies row `i` of `parts` (`out.len()` base elements) into `out`.
fn gather(parts: &[Part], i: usize, out: &mut [Felt]) {
    let mut at = 0;
    for part in parts {
        let w = part.width();
        part.read(i, &mut out[at..at + w]);
        at += w;
    }
}

/// The span winterfell's own extension reports, for phase profiles.
fn extension_span(columns: usize, domain: &StarkDomain<Felt>) -> tracing::span::EnteredSpan {
    tracing::info_span!(
        "extend_execution_trace",
        num_cols = columns,
        blowup = domain.trace_to_lde_blowup()
    )
    .entered()
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
    /// Extends and commits to the main segment `main`, reusing `weights` (the range of the
    /// program's weight columns and their extension) where it extends `main`'s columns there
    /// over `domain`; returns the extension and the main segment's polynomials.
    pub fn new(
        info: &TraceInfo,
        main: &ColMatrix<Felt>,
        domain: &StarkDomain<Felt>,
        partitions: PartitionOptions,
        weights: Option<(Range<usize>, Arc<WeightExtension>)>,
    ) -> (Self, TracePolyTable<E>) {
        let reusable = weights.filter(|(range, extension)| {
            range.end <= main.num_cols()
                && !range.is_empty()
                && extension.extends(
                    &main.columns().collect::<Vec<_>>()[range.clone()],
                    domain.lde_domain_size(),
                    domain.trace_to_lde_blowup(),
                    domain.offset(),
                )
        });
        let (extended, polys) = match reusable {
            Some((range, extension)) => {
                Extended::<V>::with_weights::<H>(main, range, extension, domain, partitions)
            }
            None => Extended::<V>::new::<Felt, H>(main, domain, partitions),
        };
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
        self.main.rows()
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
        gather(&self.main.parts, step, frame.current_mut());
        gather(&self.main.parts, next, frame.next_mut());
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
mod tests;
