//! The segmented extension against winterfell's `DefaultTraceLde`.

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
/// one and three hash partitions, with and without a reused weight extension (and with
/// one of other columns, which is not reused): the same commitments, polynomials, frames
/// and openings as winterfell's `DefaultTraceLde`.
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
    // n/2 twiddles × 8 × 2 points: blowup 8, the weight commitment's
    let domain = StarkDomain::from_twiddles(fft::get_twiddles::<Felt>(n), 8, Felt::GENERATOR);
    // the program's weight extension of columns 3..8, and one of other columns (a trace
    // whose weights were changed after compiling: not reused)
    let weights: Vec<Vec<Felt>> = (3..8).map(|c| main.get_column(c).to_vec()).collect();
    let other: Vec<Vec<Felt>> = (3..8).map(|c| column(n, 50 + c)).collect();
    let cached = [
        None,
        Some((3..8, Arc::new(WeightExtension::new(&weights)))),
        Some((3..8, Arc::new(WeightExtension::new(&other)))),
        Some((0..5, Arc::new(WeightExtension::new(&weights)))),
    ];
    let options = [PartitionOptions::default(), PartitionOptions::new(3, 1)];
    for (partitions, (k, weights)) in options
        .into_iter()
        .flat_map(|p| cached.clone().into_iter().enumerate().map(move |w| (p, w)))
    {
        let (mut ours, our_polys) =
            SegmentedTraceLde::<E, H, V>::new(&info, &main, &domain, partitions, weights);
        let reused = ours
            .main
            .parts
            .iter()
            .any(|p| matches!(p, Part::Weights(..)));
        assert_eq!(reused, k == 1, "case {k}");
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
