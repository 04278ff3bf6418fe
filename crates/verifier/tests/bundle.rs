//! Bundles as statements: a bundle of honest proofs verifies as one; reordered, duplicated,
//! missing and foreign proofs, and proofs whose stated positions or id do not add up, are each
//! rejected with their own reason.

mod common;

use std::sync::OnceLock;

use glassbox_air::{BundlePosition, SecurityLevel};
use glassbox_prover::{bundle_positions, prove_bundle, prove_trace};
use glassbox_verifier::{verify, verify_bundle, BundleError, VerifyError};

struct Fixture {
    /// Chunks of two samples of `inputs` (three proofs).
    bundle: Vec<Vec<u8>>,
    /// The same chunking of other inputs.
    other: Vec<Vec<u8>>,
    inputs: Vec<Vec<i64>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let h = common::honest();
        let inputs = common::inputs(6, 8, 21);
        let mut other_inputs = inputs.clone();
        other_inputs[3][0] = if other_inputs[3][0] == 1 { 2 } else { 1 };
        let prove = |x: &[Vec<i64>]| {
            prove_bundle(&h.program, x, 2, SecurityLevel::Bits100)
                .expect("prove")
                .iter()
                .map(|e| e.to_bytes())
                .collect::<Vec<_>>()
        };
        Fixture {
            bundle: prove(&inputs),
            other: prove(&other_inputs),
            inputs,
        }
    })
}

fn check(files: &[&Vec<u8>]) -> Result<glassbox_verifier::BundleClaim, BundleError> {
    let slices: Vec<&[u8]> = files.iter().map(|b| b.as_slice()).collect();
    verify_bundle(&slices, &common::honest().digest, 100)
}

#[test]
fn an_honest_bundle_verifies_as_one_statement() {
    let f = fixture();
    let b = &f.bundle;
    let claim = check(&[&b[0], &b[1], &b[2]]).expect("honest bundle");
    assert_eq!(claim.samples, 6);
    assert_eq!(claim.inputs().cloned().collect::<Vec<_>>(), f.inputs);
    assert_eq!(
        claim.id,
        glassbox_air::bundle_id(f.inputs.iter().map(Vec::as_slice))
    );
    // one file alone verifies, and says it is one chunk of three
    let one = verify(&b[1], &common::honest().digest, 100).expect("chunk verifies");
    assert!(!one.is_whole_bundle());
    assert_eq!(
        (
            one.bundle.chunk,
            one.bundle.chunks,
            one.bundle.first_sample,
            one.bundle.samples
        ),
        (1, 3, 2, 6)
    );
    // a single proof is a bundle of one chunk
    let single = &common::honest().bytes;
    let c = check(&[single]).expect("one-chunk bundle");
    assert_eq!(c.samples, 2);
    assert!(c.claims[0].is_whole_bundle());
}

#[test]
fn reordered_proofs_are_rejected() {
    let b = &fixture().bundle;
    assert!(matches!(
        check(&[&b[1], &b[0], &b[2]]),
        Err(BundleError::Reordered {
            index: 0,
            expected: 0,
            got: 1
        })
    ));
    assert!(matches!(
        check(&[&b[0], &b[2], &b[1]]),
        Err(BundleError::Reordered { index: 1, .. })
    ));
}

#[test]
fn duplicated_proofs_are_rejected() {
    let b = &fixture().bundle;
    assert_eq!(
        check(&[&b[0], &b[1], &b[1]]).err(),
        Some(BundleError::Duplicate {
            index: 2,
            chunk: 1,
            first: 1
        })
    );
    // the spliced-manifest attack: the same chunk listed twice in place of two
    assert!(matches!(
        check(&[&b[1], &b[1]]),
        Err(BundleError::Duplicate { index: 1, .. })
    ));
    // four files, one repeated
    assert!(matches!(
        check(&[&b[0], &b[1], &b[2], &b[2]]),
        Err(BundleError::Duplicate { index: 3, .. })
    ));
}

#[test]
fn missing_proofs_are_rejected() {
    let b = &fixture().bundle;
    assert_eq!(
        check(&[&b[0], &b[2]]).err(),
        Some(BundleError::Missing {
            expected: 3,
            got: 2,
            chunk: 1
        })
    );
    assert!(matches!(
        check(&[&b[0], &b[1]]),
        Err(BundleError::Missing { chunk: 2, .. })
    ));
    assert!(matches!(
        check(&[&b[1]]),
        Err(BundleError::Missing { chunk: 0, .. })
    ));
    assert_eq!(check(&[]).err(), Some(BundleError::Empty));
}

#[test]
fn foreign_proofs_are_rejected() {
    let f = fixture();
    let (b, o) = (&f.bundle, &f.other);
    // the same position of a bundle of other inputs
    assert!(matches!(
        check(&[&b[0], &o[1], &b[2]]),
        Err(BundleError::Foreign { index: 1, .. })
    ));
    // a one-chunk proof of exactly chunk 1's inputs
    let h = common::honest();
    let alone = glassbox_prover::prove(&h.program, &f.inputs[2..4], SecurityLevel::Bits100)
        .expect("prove")
        .to_bytes();
    assert!(matches!(
        check(&[&b[0], &alone, &b[2]]),
        Err(BundleError::Foreign { index: 1, .. })
    ));
    // an invalid file is named by its position
    let mut broken = b[2].clone();
    let last = broken.len() - 1;
    broken[last] ^= 1;
    assert!(matches!(
        check(&[&b[0], &b[1], &broken]),
        Err(BundleError::Proof { index: 2, .. })
    ));
}

/// Proves `inputs` in chunks of two with the positions `edit` makes of the honest ones.
fn prove_positions(
    inputs: &[Vec<i64>],
    edit: impl Fn(&mut [BundlePosition]),
) -> Vec<Result<Vec<u8>, VerifyError>> {
    let h = common::honest();
    let mut positions = bundle_positions(inputs, 2);
    edit(&mut positions);
    positions
        .into_iter()
        .zip(inputs.chunks(2))
        .map(|(p, c)| {
            let trace = h.program.trace_chunk(c, p).expect("trace");
            let bytes = prove_trace(trace, SecurityLevel::Bits100)
                .expect("prove")
                .to_bytes();
            verify(&bytes, &h.digest, 100).map(|_| bytes)
        })
        .collect()
}

#[test]
fn positions_that_do_not_add_up_are_rejected() {
    let inputs = &fixture().inputs;
    // every proof states a wrong id: each verifies, the bundle does not
    let forged = prove_positions(inputs, |ps| ps.iter_mut().for_each(|p| p.id = [5; 32]));
    let files: Vec<Vec<u8>> = forged.into_iter().map(|r| r.expect("valid")).collect();
    assert!(matches!(
        check(&files.iter().collect::<Vec<_>>()),
        Err(BundleError::IdMismatch { .. })
    ));
    // a gap: chunk 1 claims samples 3..5
    let gap = prove_positions(inputs, |ps| ps[1].first_sample = 3);
    let files: Vec<Vec<u8>> = gap.into_iter().map(|r| r.expect("valid")).collect();
    assert_eq!(
        check(&files.iter().collect::<Vec<_>>()).err(),
        Some(BundleError::NotContiguous {
            index: 1,
            expected: 2,
            got: 3
        })
    );
    // a chunk index at or past the count is refused by the statement check itself
    let past = prove_positions(inputs, |ps| ps[2].chunk = 3);
    assert!(matches!(past[2], Err(VerifyError::Statement(_))));
}
