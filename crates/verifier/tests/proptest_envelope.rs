//! Property tests of the proof-file envelope: random statements round-trip through
//! `to_bytes`/`from_bytes`, and no byte string (random, or a mutated valid envelope) panics the
//! decoder or decodes to an envelope with a second encoding.

use glassbox_air::{
    ActivationTable, BundlePosition, EnvelopeError, Felt, InputEncoding, LayerDescriptor,
    ModelDescriptor, Norm, Projection, ProofEnvelope, PublicInputs, SecurityLevel, WeightOpening,
    ENVELOPE_MAGIC, ENVELOPE_VERSION,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use winter_verifier::math::StarkField;

fn layer(n_in: usize, n_out: usize) -> impl Strategy<Value = LayerDescriptor> {
    (
        prop::collection::vec(any::<i64>(), n_out),
        // the multiplier field's top bit marks an activation table (valid multipliers are far
        // below it)
        prop_oneof![Just(None), (1u32..1 << 31).prop_map(Some)],
        prop_oneof![
            Just(None),
            prop::collection::vec(-255i64..=255, 256).prop_map(ActivationTable::new)
        ],
    )
        .prop_map(move |(bias, multiplier, table)| LayerDescriptor {
            n_in,
            n_out,
            multiplier,
            bias,
            groups: 1,
            conv: None,
            patch: None,
            table,
        })
}

/// Any encoding of `n` features (not necessarily valid: the envelope carries what it is given).
fn encoding(n: usize) -> impl Strategy<Value = InputEncoding> {
    let value = any::<f64>().prop_filter("comparable", |v| !v.is_nan());
    let cut = any::<f32>().prop_filter("comparable", |v| !v.is_nan());
    prop_oneof![
        Just(InputEncoding::Symmetric),
        (
            prop::collection::vec(value.clone(), n),
            prop::collection::vec(value.clone(), n)
        )
            .prop_map(|(offset, step)| InputEncoding::Affine { offset, step }),
        prop::collection::vec(prop::collection::vec(cut.clone(), 0..6), n)
            .prop_map(|cuts| InputEncoding::Thresholds { cuts }),
        (
            prop_oneof![Just(Norm::Max), Just(Norm::L1), Just(Norm::L2)],
            prop::collection::vec(value.clone(), n),
            prop::collection::vec(value.clone(), n)
        )
            .prop_map(|(norm, offset, step)| InputEncoding::Normalized {
                norm,
                inner: Box::new(InputEncoding::Affine { offset, step }),
            }),
        (1usize..=5)
            .prop_flat_map(move |inputs| (
                Just(inputs),
                prop::collection::vec(value.clone(), n * inputs),
                prop::collection::vec(value.clone(), n),
                prop::collection::vec(prop::collection::vec(cut.clone(), 0..4), n),
            ))
            .prop_map(|(inputs, matrix, offset, cuts)| InputEncoding::Projected {
                map: Projection {
                    inputs,
                    matrix,
                    offset,
                },
                cuts,
            }),
    ]
}

fn descriptor() -> impl Strategy<Value = ModelDescriptor> {
    (
        prop::collection::vec(1usize..=12, 2..=5),
        0usize..=u32::MAX as usize,
        any::<f64>().prop_filter("comparable", |v| !v.is_nan()),
        any::<f64>().prop_filter("comparable", |v| !v.is_nan()),
    )
        .prop_flat_map(|(widths, trace_len, input_scale, output_scale)| {
            let layers: Vec<_> = widths.windows(2).map(|w| layer(w[0], w[1])).collect();
            (
                layers,
                encoding(widths[0]),
                Just((trace_len, input_scale, output_scale)),
            )
        })
        .prop_map(
            |(layers, input_encoding, (trace_len, input_scale, output_scale))| ModelDescriptor {
                trace_len,
                layers,
                input_scale,
                output_scale,
                input_encoding,
            },
        )
}

fn opening() -> impl Strategy<Value = WeightOpening> {
    (
        any::<u8>(),
        prop::collection::vec(
            prop::collection::vec(prop::array::uniform32(any::<u8>()), 0..4),
            0..4,
        ),
    )
        .prop_map(|(depth, nodes)| WeightOpening { depth, nodes })
}

fn envelope() -> impl Strategy<Value = ProofEnvelope> {
    descriptor()
        .prop_flat_map(|d| {
            let (n_in, n_out) = (d.input_len(), d.output_len());
            (
                Just(d),
                (1usize..=4).prop_flat_map(move |batch| {
                    (
                        prop::collection::vec(prop::collection::vec(-128i64..=127, n_in), batch),
                        prop::collection::vec(prop::collection::vec(any::<i64>(), n_out), batch),
                    )
                }),
                prop::option::of(prop::collection::vec(any::<i64>(), n_out))
                    .prop_map(Option::unwrap_or_default),
                (
                    prop::array::uniform32(any::<u8>()),
                    prop::array::uniform2((0..Felt::MODULUS).prop_map(Felt::new)),
                ),
                prop::sample::select(SecurityLevel::ALL.to_vec()),
                prop::collection::vec(any::<u8>(), 0..200),
                opening(),
                (prop::array::uniform32(any::<u8>()), any::<[u32; 4]>()).prop_map(
                    |(id, [chunk, chunks, first_sample, samples])| BundlePosition {
                        id,
                        chunk,
                        chunks,
                        first_sample,
                        samples,
                    },
                ),
            )
        })
        .prop_map(
            |(
                descriptor,
                (inputs, outputs),
                padding_outputs,
                (weight_root, weight_sketch),
                security,
                proof,
                weight_opening,
                bundle,
            )| {
                ProofEnvelope {
                    public: PublicInputs {
                        descriptor,
                        inputs,
                        outputs,
                        padding_outputs,
                        weight_root,
                        weight_sketch,
                        bundle,
                    },
                    security,
                    proof,
                    weight_opening,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn envelope_round_trips(env in envelope()) {
        let bytes = env.to_bytes();
        prop_assert_eq!(&ProofEnvelope::from_bytes(&bytes).expect("decodes"), &env);
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(
            ProofEnvelope::from_bytes(&longer),
            Err(EnvelopeError::TrailingBytes { count: 1 })
        );
        for cut in [0, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(ProofEnvelope::from_bytes(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn random_bytes_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..1024),
        header in any::<bool>(),
        preset in 0u8..3,
    ) {
        let mut bytes = Vec::new();
        if header {
            bytes.extend_from_slice(&ENVELOPE_MAGIC);
            bytes.extend_from_slice(&ENVELOPE_VERSION.to_le_bytes());
            bytes.push(preset);
        }
        bytes.extend_from_slice(&tail);
        if let Ok(env) = ProofEnvelope::from_bytes(&bytes) {
            prop_assert_eq!(env.to_bytes(), bytes);
        }
    }

    /// One canonical encoding: a mutated envelope either fails to decode or is the exact
    /// encoding of what it decodes to.
    #[test]
    fn mutated_envelopes_are_rejected_or_canonical(
        env in envelope(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let mut bytes = env.to_bytes();
        for (i, x) in edits {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        if let Ok(decoded) = ProofEnvelope::from_bytes(&bytes) {
            prop_assert_eq!(decoded.to_bytes(), bytes);
        }
    }
}

/// A projected encoding's coefficient count is checked against the limit before anything is
/// read or allocated: an envelope claiming no raw feature, or `u32::MAX` of them, is refused as
/// an invalid encoding, and one claiming more than it carries as truncated.
#[test]
fn a_projections_size_is_checked_before_it_is_read() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let base = envelope().new_tree(&mut runner).expect("tree").current();
    let n = base.public.descriptor.input_len();
    let with = |input_encoding: InputEncoding| {
        let mut env = base.clone();
        env.public.descriptor.input_encoding = input_encoding;
        env.to_bytes()
    };
    let projected = with(InputEncoding::Projected {
        map: Projection {
            inputs: 2,
            matrix: vec![0.5; 2 * n],
            offset: vec![1.0; n],
        },
        cuts: vec![vec![0.0]; n],
    });
    let plain = with(InputEncoding::Symmetric);
    let tag = projected
        .iter()
        .zip(&plain)
        .position(|(a, b)| a != b)
        .expect("the encodings differ");
    assert_eq!(projected[tag], 3);
    assert!(ProofEnvelope::from_bytes(&projected).is_ok());
    let claim = |inputs: u32| {
        let mut bytes = projected.clone();
        bytes[tag + 1..tag + 5].copy_from_slice(&inputs.to_le_bytes());
        ProofEnvelope::from_bytes(&bytes)
    };
    let invalid = Err(EnvelopeError::Invalid {
        field: "input encoding",
    });
    assert_eq!(claim(0), invalid);
    assert_eq!(claim(u32::MAX), invalid);
    assert_eq!(claim(8193), invalid);
    assert!(claim(3).is_err());
}
