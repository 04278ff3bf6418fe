//! Proves batches of 1, 8 and 64 inferences and prints the amortized cost per inference.
//!
//! Run with `cargo run --release --example batch [MODEL.onnx]`.
use std::time::Instant;

use glassbox::{model, Program, SecurityLevel};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{FIXTURES}/mlp_64_128_64_10.onnx"));
    let onnx = std::fs::read(&path).expect("read model");
    let (quantized, _) = model::compile_onnx(&onnx, None).expect("compile");
    let program = Program::compile(&quantized).expect("layout");
    let data = std::fs::read_to_string(format!("{FIXTURES}/digits_test.json")).expect("data");
    let samples: Vec<Vec<i64>> = model::parse_input_json(&data, Some(quantized.input_len))
        .expect("inputs")
        .iter()
        .map(|x| quantized.quantize_input(x).expect("quantize"))
        .collect();
    println!("{path}: up to {} samples per proof", program.max_batch());
    println!("| batch | proofs | prove ms | ms / inference | verify ms | proof KB |");
    println!("|--:|--:|--:|--:|--:|--:|");
    for batch in [1usize, 8, 64] {
        let inputs: Vec<Vec<i64>> = samples.iter().cycle().take(batch).cloned().collect();
        let start = Instant::now();
        let proofs = glassbox::prove_bundle(
            &program,
            &inputs,
            program.max_batch(),
            SecurityLevel::Bits100,
        )
        .expect("prove");
        let prove_ms = start.elapsed().as_secs_f64() * 1e3;
        let bytes: Vec<Vec<u8>> = proofs.iter().map(|p| p.to_bytes()).collect();
        let start = Instant::now();
        for b in &bytes {
            glassbox::verify(b, &program.digest(), 100).expect("verify");
        }
        let verify_ms = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "| {batch} | {} | {prove_ms:.1} | {:.2} | {verify_ms:.2} | {:.1} |",
            proofs.len(),
            prove_ms / batch as f64,
            bytes.iter().map(Vec::len).sum::<usize>() as f64 / 1024.0
        );
    }
}
