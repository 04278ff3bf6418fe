//! An audit of one day of inferences.
//!
//! A provider compiles a model and publishes its digest, serves 200 inferences and proves them as
//! a bundle of proofs written to a directory. An auditor, holding only the published digest and
//! the files, verifies every proof offline, and the files as one bundle (no proof missing,
//! repeated, reordered or from another batch), and tallies what was proven.
//!
//! Run with `cargo run --release --example audit`.
use std::time::Instant;

use glassbox::{model, ModelDigest, Program, SecurityLevel};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");

    // ── Provider ────────────────────────────────────────────────────────────────────────────
    let onnx = std::fs::read(format!("{FIXTURES}/mlp_64_128_64_10.onnx")).expect("read model");
    let calib = std::fs::read_to_string(format!("{FIXTURES}/digits_calib.json")).expect("calib");
    let calib = model::parse_input_json(&calib, Some(64)).expect("calibration samples");
    let (quantized, _) = model::compile_onnx(&onnx, Some(&calib)).expect("compile");
    let program = Program::compile(&quantized).expect("layout");
    let published = program.digest().to_hex();
    println!("provider publishes model digest {published}");

    let data = std::fs::read_to_string(format!("{FIXTURES}/digits_test.json")).expect("data");
    let day: Vec<Vec<i64>> = model::parse_input_json(&data, Some(64))
        .expect("inputs")
        .iter()
        .take(200)
        .map(|x| quantized.quantize_input(x).expect("quantize"))
        .collect();
    let start = Instant::now();
    let proofs =
        glassbox::prove_bundle(&program, &day, program.max_batch(), SecurityLevel::Bits100)
            .expect("prove");
    let prove_time = start.elapsed();
    let mut total_bytes = 0;
    for (i, proof) in proofs.iter().enumerate() {
        let bytes = proof.to_bytes();
        total_bytes += bytes.len();
        std::fs::write(dir.path().join(format!("day.{i}.gbp")), bytes).expect("write proof");
    }
    println!(
        "provider proved {} inferences as {} proofs ({:.1} KB) in {:.2} s, into {}",
        day.len(),
        proofs.len(),
        total_bytes as f64 / 1024.0,
        prove_time.as_secs_f64(),
        dir.path().display()
    );

    // ── Auditor: only the digest string and the directory ─────────────────────────────────
    let digest = ModelDigest::from_hex(&published).expect("published digest");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/digits_labels.json")).expect("labels"),
    )
    .expect("labels json");
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort_by_key(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.split('.').nth(1).and_then(|i| i.parse::<usize>().ok())
    });
    let (mut samples, mut correct) = (0, 0);
    let start = Instant::now();
    let proofs: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("read proof"))
        .collect();
    let slices: Vec<&[u8]> = proofs.iter().map(Vec::as_slice).collect();
    // every proof, and the bundle as one statement: one bundle id over all the inputs, chunks
    // in order, none missing, repeated or foreign
    let bundle = glassbox::verify_bundle(&slices, &digest, 100).expect("the bundle verifies");
    for claim in &bundle.claims {
        for label in claim.labels() {
            if truth["labels"][samples].as_u64() == Some(label as u64) {
                correct += 1;
            }
            samples += 1;
        }
    }
    println!(
        "auditor verified the bundle of {} proofs covering {samples} inferences in {:.1} ms",
        files.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "proven predictions match the true digit on {correct}/{samples} ({:.1}%)",
        100.0 * correct as f64 / samples.max(1) as f64
    );
    assert_eq!(samples, bundle.samples, "every sample is counted once");
}
