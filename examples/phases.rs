//! Times trace generation separately from proving (one inference of a fixture model).
use std::time::Instant;

use glassbox::{model, Program, SecurityLevel};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/mlp_64_128_64_10.onnx".into());
    let (q, _) = model::compile_onnx(&std::fs::read(&path).expect("model"), None).expect("compile");
    let program = Program::compile(&q).expect("program");
    let x = vec![q.quantize_input(&vec![0.5; q.input_len]).expect("input")];
    for _ in 0..3 {
        let t = Instant::now();
        let trace = program.trace(&x).expect("trace");
        let tg = t.elapsed();
        let t = Instant::now();
        let env = glassbox_prover::prove_trace(trace, SecurityLevel::Bits100).expect("prove");
        println!(
            "trace {:.1} ms, prove {:.1} ms, {} bytes",
            tg.as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
            env.proof.len()
        );
    }
}
