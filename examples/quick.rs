//! Proves 1, 8, 64 and 256 inferences of a fixture model (the batches that fit one proof) and
//! prints timings.
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
    let onnx = std::fs::read(&path).expect("read model");
    let (q, _) = model::compile_onnx(&onnx, None).expect("compile");
    let program = Program::compile(&q).expect("program");
    let data = std::fs::read_to_string("fixtures/digits_test.json").expect("data");
    let xs = model::parse_input_json(&data, Some(64)).expect("inputs");
    let ints: Vec<Vec<i64>> = xs
        .iter()
        .map(|x| q.quantize_input(x).expect("quantize"))
        .collect();
    println!(
        "N = {}, max batch {}",
        program.descriptor.trace_len,
        program.max_batch()
    );
    for b in [1usize, 8, 64, 256]
        .into_iter()
        .filter(|&b| b <= program.max_batch())
    {
        let batch: Vec<Vec<i64>> = ints.iter().cycle().take(b).cloned().collect();
        let layout = program.layout(b).expect("layout");
        let t = Instant::now();
        let env = glassbox::prove(&program, &batch, SecurityLevel::Bits100).expect("prove");
        let pt = t.elapsed();
        let bytes = env.to_bytes();
        let t = Instant::now();
        glassbox::verify(&bytes, &program.digest(), 100).expect("verify");
        println!(
            "batch {b:4}: {}x{} main + {} aux, prove {:7.1} ms, verify {:.2} ms, proof {:.1} KB",
            layout.trace_len,
            layout.main_width,
            layout.aux.width,
            pt.as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
            bytes.len() as f64 / 1024.0
        );
    }
}
