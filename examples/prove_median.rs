//! The Rust API's proving time for the 64-128-64-10 digits MLP at batch 1 and 64 (median of
//! `REPS` calls of `glassbox::prove`), the baseline `examples/python_bench.py` is compared with.
//!
//! Run with `cargo run --release --example prove_median [REPS]`.
use std::time::Instant;

use glassbox::{model, Program, SecurityLevel};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let read = |name: &str| std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect(name);
    let calib = model::parse_input_json(&read("digits_calib.json"), Some(64)).expect("calib");
    let onnx = std::fs::read(format!("{FIXTURES}/mlp_64_128_64_10.onnx")).expect("model");
    let (quantized, _) = model::compile_onnx(&onnx, Some(&calib)).expect("compile");
    let program = Program::compile(&quantized).expect("layout");
    let samples = model::parse_input_json(&read("digits_test.json"), Some(64)).expect("inputs");
    println!(
        "model {}, {reps} runs per batch, medians",
        &program.digest().to_hex()[..16]
    );
    for batch in [1usize, 64] {
        let mut times: Vec<f64> = (0..=reps)
            .map(|_| {
                let start = Instant::now();
                let inputs: Vec<Vec<i64>> = samples[..batch]
                    .iter()
                    .map(|x| quantized.quantize_input(x).expect("quantize"))
                    .collect();
                glassbox::prove(&program, &inputs, SecurityLevel::Bits100).expect("prove");
                start.elapsed().as_secs_f64() * 1e3
            })
            .skip(1) // warm-up
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "batch {batch:>2}: glassbox::prove {:.2} ms",
            times[times.len() / 2]
        );
    }
}
