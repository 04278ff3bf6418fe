//! The trace generator's executor (`glassbox_trace::Program::execute`, what the prover commits
//! to) must compute exactly what the model crate's integer reference executor
//! (`QuantizedModel::run`) computes: same outputs, same requantized hidden values, same
//! overflow refusals, including for the zero-input padding lanes.

mod common;

use glassbox_model::QuantizedModel;
use glassbox_trace::{CompileError, Program};
use proptest::prelude::*;

/// Small models whose accumulators sometimes leave the provable requantization range.
fn model() -> impl Strategy<Value = QuantizedModel> {
    (prop::collection::vec(1usize..=10, 2..=4), any::<bool>())
        .prop_flat_map(|(widths, wide)| {
            let (bias, mult) = if wide {
                (-(1i64 << 31) + 1..(1i64 << 31), 1u32..=65535)
            } else {
                (-5000i64..5000, 1u32..=2000)
            };
            let layers = common::layers(&widths, bias, mult);
            (layers, Just(widths[0]))
        })
        .prop_map(|(layers, input_len)| QuantizedModel {
            name: "p".into(),
            input_len,
            input_scale: 0.01,
            input_encoding: glassbox_model::InputEncoding::Symmetric,
            layers,
            output_scale: 0.001,
            classifier: true,
            proof_batch: None,
        })
}

fn case() -> impl Strategy<Value = (QuantizedModel, Vec<Vec<i64>>, usize)> {
    model().prop_flat_map(|m| {
        let len = m.input_len;
        (
            Just(m),
            prop::collection::vec(prop::collection::vec(-128i64..=127, len), 1..=4),
            0usize..=3,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn trace_executor_matches_integer_reference((m, inputs, padding) in case()) {
        // Some small shapes fit no trace length (e.g. [1, 9, 9, 1]: an input width of 1 forces
        // a batch capacity of one lane per row, and the 16-block hidden regions then need more
        // than 255 columns); those are a layout limit, not an executor disagreement.
        let program = match Program::compile(&m) {
            Ok(p) => p,
            Err(CompileError::Layout(_)) => return Err(TestCaseError::reject("no layout fits")),
            Err(e) => return Err(TestCaseError::fail(format!("compile: {e}"))),
        };
        let lanes = inputs.len() + padding;
        let mut all = inputs.clone();
        all.resize(lanes, vec![0; m.input_len]);
        let reference = m.run(&all);
        let traced = program.execute(&inputs, lanes);
        prop_assert_eq!(
            reference.is_ok(),
            traced.is_ok(),
            "reference {:?} vs trace {:?}",
            reference.as_ref().err(),
            traced.as_ref().err()
        );
        let (Ok(reference), Ok(traced)) = (reference, traced) else {
            return Ok(());
        };
        prop_assert_eq!(traced.batch, inputs.len());
        prop_assert_eq!(&traced.inputs, &all);
        for (b, exec) in reference.iter().enumerate() {
            prop_assert_eq!(&traced.outputs[b], &exec.outputs, "outputs of lane {}", b);
            for (l, layer) in exec.layers.iter().enumerate() {
                let Some(rq) = &layer.requantized else {
                    continue;
                };
                let got = &traced.hidden[l][b];
                prop_assert_eq!(got.len(), rq.len().next_power_of_two());
                for (i, (g, r)) in got.iter().zip(rq).enumerate() {
                    prop_assert_eq!(
                        (g.t, g.remainder, g.x),
                        (r.t, r.remainder, r.x),
                        "layer {} lane {} output {}",
                        l,
                        b,
                        i
                    );
                }
            }
        }
    }
}
