//! Property tests of the compiled-model artifact: every valid model round-trips through
//! `to_bytes`/`from_bytes`, and no byte string, random or mutated, panics the decoder or decodes
//! to a model with a second encoding.

mod common;

use glassbox_model::{InputEncoding, QuantizedModel, MAX_PROOF_BATCH};
use proptest::prelude::*;

/// Any valid input encoding for `n` features.
fn encoding(n: usize) -> impl Strategy<Value = InputEncoding> {
    prop_oneof![
        Just(InputEncoding::Symmetric),
        (
            prop::collection::vec(-1e3f64..1e3, n),
            prop::collection::vec(1e-6f64..10.0, n)
        )
            .prop_map(|(offset, step)| InputEncoding::Affine { offset, step }),
        prop::collection::vec(prop::collection::btree_set(-1000i32..1000, 0..6), n).prop_map(
            |sets| InputEncoding::Thresholds {
                cuts: sets
                    .into_iter()
                    .map(|s| s.into_iter().map(|v| v as f32 / 8.0).collect())
                    .collect(),
            }
        ),
    ]
}

/// Random valid small models: 1–4 layers of width 1–12, any input encoding, multipliers up to
/// 2^24 (tree comparison layers use 255·2^16).
pub fn small_model() -> impl Strategy<Value = QuantizedModel> {
    (
        prop::collection::vec(1usize..=12, 2..=5),
        "[a-z0-9_]{0,12}",
        any::<bool>(),
        1e-6f64..10.0,
        1e-6f64..10.0,
        prop::option::of(1u32..=MAX_PROOF_BATCH),
    )
        .prop_flat_map(
            |(widths, name, classifier, input_scale, output_scale, batch)| {
                let layers = common::layers(
                    &widths,
                    -(1i64 << 31) + 1..(1i64 << 31),
                    1u32..=(1 << 24) - 1,
                );
                (
                    layers,
                    encoding(widths[0]),
                    Just((
                        widths[0],
                        name,
                        classifier,
                        input_scale,
                        output_scale,
                        batch,
                    )),
                )
            },
        )
        .prop_map(
            |(
                layers,
                input_encoding,
                (input_len, name, classifier, input_scale, output_scale, proof_batch),
            )| {
                QuantizedModel {
                    name,
                    input_len,
                    input_scale,
                    input_encoding,
                    layers,
                    output_scale,
                    classifier,
                    proof_batch,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn artifact_round_trips(m in small_model()) {
        let bytes = m.to_bytes().expect("valid model encodes");
        prop_assert_eq!(&QuantizedModel::from_bytes(&bytes).expect("decodes"), &m);
        prop_assert_eq!(m.to_bytes().expect("encodes"), bytes);
    }

    #[test]
    fn random_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..512), magic in any::<bool>()) {
        let mut bytes = Vec::new();
        if magic {
            bytes.extend_from_slice(glassbox_model::MAGIC);
            bytes.extend_from_slice(&glassbox_model::FORMAT_VERSION.to_le_bytes());
        }
        bytes.extend_from_slice(&tail);
        if let Ok(m) = QuantizedModel::from_bytes(&bytes) {
            prop_assert_eq!(m.to_bytes().expect("re-encodes"), bytes);
        }
    }

    /// One canonical encoding: a mutated artifact either fails to decode or is the exact
    /// encoding of what it decodes to.
    #[test]
    fn mutated_artifacts_are_rejected_or_canonical(
        m in small_model(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = m.to_bytes().expect("valid model encodes");
        for (i, x) in edits {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(decoded) = QuantizedModel::from_bytes(&bytes) {
            prop_assert_eq!(decoded.to_bytes().expect("re-encodes"), bytes);
        }
    }
}
