//! Criterion benches: proving, trace generation and verification of the digits fixtures, and
//! proving the wine random forest (a tree ensemble) at 1 and 256 predictions, the digits CNN at 1
//! and 64 inferences, and the patch-path CNNs LeNet-5 and the 3×32×32 RGB CNN (compile, 1 and 64).
//!
//! `cargo bench --bench prove` (add `-- 64_128` to filter). Each proof is one sample of the
//! criterion loop, so expect a few minutes; `glassbox bench` prints the same numbers as a table.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use glassbox::{model, Program, SecurityLevel};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// Fixture `name` compiled with the calibration samples in `calib`, and 256 quantized samples
/// cycled from `test` (`len`: the expected input length, if fixed).
fn prepare(name: &str, calib: &str, test: &str, len: Option<usize>) -> (Program, Vec<Vec<i64>>) {
    let read = |n: &str| model::parse_input_json(&String::from_utf8(fixture(n)).unwrap(), len);
    let (q, _) = model::compile_onnx(&fixture(name), Some(&read(calib).unwrap())).expect("compile");
    let xs = read(test)
        .unwrap()
        .iter()
        .cycle()
        .take(256)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    (Program::compile(&q).expect("program"), xs)
}

/// A digits fixture with the digits calibration and test splits.
fn setup(name: &str) -> (Program, Vec<Vec<i64>>) {
    prepare(name, "digits_calib.json", "digits_test.json", Some(64))
}

fn benches(c: &mut Criterion) {
    for (name, label) in [
        ("mlp_64_32_10.onnx", "64_32_10"),
        ("mlp_64_128_64_10.onnx", "64_128_64_10"),
        ("mlp_64_512_512_10.onnx", "64_512_512_10"),
    ] {
        let (program, xs) = setup(name);
        let mut group = c.benchmark_group(label);
        group.sample_size(10);
        for batch in [1usize, 8, 64, 256] {
            let per_proof = batch.min(program.max_batch());
            let inputs = &xs[..batch];
            group.bench_function(format!("prove/{batch}"), |b| {
                b.iter(|| {
                    glassbox::prove_bundle(&program, inputs, per_proof, SecurityLevel::Bits100)
                        .unwrap()
                })
            });
        }
        group.bench_function("trace/64", |b| b.iter(|| program.trace(&xs[..64]).unwrap()));
        let proof = glassbox::prove(&program, &xs[..64], SecurityLevel::Bits100)
            .unwrap()
            .to_bytes();
        let digest = program.digest();
        group.bench_function("verify/64", |b| {
            b.iter_batched(
                || proof.clone(),
                |p| glassbox::verify(&p, &digest, 100).unwrap(),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

/// The wine forest (10 trees) compiled with its calibration split, and 256 encoded test samples.
fn forest() -> (Program, Vec<Vec<i64>>) {
    prepare(
        "forest_wine.onnx",
        "forest_wine.calib.json",
        "forest_wine.test.json",
        None,
    )
}

fn tree_benches(c: &mut Criterion) {
    let (program, xs) = forest();
    let mut group = c.benchmark_group("forest_wine");
    group.sample_size(10);
    for batch in [1usize, 256] {
        let per_proof = batch.min(program.max_batch());
        let inputs = &xs[..batch];
        group.bench_function(format!("prove/{batch}"), |b| {
            b.iter(|| {
                glassbox::prove_bundle(&program, inputs, per_proof, SecurityLevel::Bits100).unwrap()
            })
        });
    }
    group.finish();
}

fn cnn_benches(c: &mut Criterion) {
    let (program, xs) = setup("cnn_digits.onnx");
    let mut group = c.benchmark_group("cnn_digits");
    group.sample_size(10);
    for batch in [1usize, 64] {
        let inputs = &xs[..batch];
        group.bench_function(format!("prove/{batch}"), |b| {
            b.iter(|| glassbox::prove(&program, inputs, SecurityLevel::Bits100).unwrap())
        });
    }
    group.finish();
}

/// The patch-path CNNs: LeNet-5 on 28×28 digits, with a residual block, and the 3×32×32 RGB CNN.
/// Compile, one inference compiled for one sample per proof (`compile --proof-batch 1`), and 64
/// with the default layout (one proof for LeNet-5, a bundle of the most one proof holds for the
/// others).
fn patch_cnn_benches(c: &mut Criterion) {
    for name in ["lenet5_digits28", "resnet_digits28", "rgb_cnn32"] {
        let read = |n: &str| model::parse_input_json(&String::from_utf8(fixture(n)).unwrap(), None);
        let onnx = fixture(&format!("{name}.onnx"));
        let calib = read(&format!("{name}.calib.json")).unwrap();
        let (mut q, _) = model::compile_onnx(&onnx, Some(&calib)).expect("compile");
        let test = read(&format!("{name}.test.json")).unwrap();
        let xs: Vec<Vec<i64>> = test
            .iter()
            .take(64)
            .map(|x| q.quantize_input(x).unwrap())
            .collect();
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function("compile", |b| {
            b.iter(|| model::compile_onnx(&onnx, Some(&calib)).expect("compile"))
        });
        let roomy = Program::compile(&q).expect("program");
        q.proof_batch = Some(1);
        let single = Program::compile(&q).expect("program");
        group.bench_function("prove/1", |b| {
            b.iter(|| glassbox::prove(&single, &xs[..1], SecurityLevel::Bits100).unwrap())
        });
        let per_proof = roomy.max_batch();
        group.bench_function("prove/64", |b| {
            b.iter(|| {
                glassbox::prove_bundle(&roomy, &xs, per_proof, SecurityLevel::Bits100).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(
    prove_benches,
    benches,
    tree_benches,
    cnn_benches,
    patch_cnn_benches
);
criterion_main!(prove_benches);
