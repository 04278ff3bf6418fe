//! Times trace generation separately from proving (`phases <model.onnx> [batch]`: one inference
//! of a fixture model by default, compiled for as many samples per proof as it proves). With `GB_TRACE=1`, winterfell's phases are printed as they close
//! (trace extension, constraint evaluation, composition, FRI, queries).
use std::time::Instant;

use glassbox::{model, Program, SecurityLevel};

fn main() {
    if std::env::var("GB_TRACE").is_ok() {
        tracing_subscriber::fmt()
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_target(false)
            .init();
    }
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/mlp_64_128_64_10.onnx".into());
    let (mut q, _) =
        model::compile_onnx(&std::fs::read(&path).expect("model"), None).expect("compile");
    let batch: u32 = std::env::args()
        .nth(2)
        .map_or(1, |b| b.parse().expect("batch"));
    q.proof_batch = Some(batch);
    let program = Program::compile(&q).expect("program");
    let x = vec![
        q.quantize_input(&vec![0.5; q.raw_input_len()])
            .expect("input");
        batch as usize
    ];
    for _ in 0..if batch > 1 { 1 } else { 3 } {
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
