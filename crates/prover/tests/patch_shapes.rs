//! Patch-path CNNs beyond LeNet on 28×28 digits (fixtures/cnn_stride2_digits28.onnx: stride-2
//! convolutions, an unpooled convolution and a global average pool; fixtures/
//! cnn_avgpool_digits28.onnx: an average pool, two convolutions without a pool between them and
//! a max pool): every convolution compiles to a patch layer, the integer labels agree with
//! onnxruntime's on the stored test samples, and a proof of one inference verifies with the
//! reference outputs while a proof of a changed output is rejected.

mod common;

use glassbox_trace::Program;
use glassbox_verifier::verify;

/// `name`'s patch layers are the `patches` listed, and its integer labels agree with
/// onnxruntime's on at least 97 % of the stored test samples.
fn agrees_with_onnxruntime(name: &str, patches: &[usize]) {
    let q = common::compile_fixture(name);
    let found: Vec<usize> = (0..q.layers.len())
        .filter(|&l| q.layers[l].patch.is_some())
        .collect();
    assert_eq!(found, patches, "{name}: patch layers");
    let (agree, total) = common::fixture_agreement(&q, name);
    assert!(
        agree * 100 >= 97 * total,
        "{name}: {agree} of {total} labels agree"
    );
}

/// One inference of `name` proves and verifies with the reference outputs; the proof with one
/// logit of its statement changed does not.
fn proves_and_rejects_a_changed_output(name: &str) {
    let mut q = common::compile_fixture(name);
    q.proof_batch = Some(1);
    let program = Program::compile(&q).unwrap();
    let xs = common::fixture_inputs(&q, name, 1);
    // the same proof claiming a first logit one higher
    let mut bad = common::proves_what_the_model_computes(&q, &program, &xs);
    bad.public.outputs[0][0] += 1;
    assert!(verify(&bad.to_bytes(), &program.digest(), 100).is_err());
}

#[test]
fn strided_convolutions_and_a_global_average_pool_are_patch_layers() {
    // conv, keep every other output (stride 2 on the input), conv over the phase planes (its
    // biases clear the spare cells the next one reads as padding), conv, Gemm (the global
    // average pool folds into it)
    agrees_with_onnxruntime("cnn_stride2_digits28", &[0, 2, 3]);
}

#[test]
fn average_pooled_and_unpooled_convolutions_are_patch_layers() {
    // conv, avg pool, conv (clearing its spare cells by its biases), conv with its max pool in
    // the pool unit, two Gemms
    agrees_with_onnxruntime("cnn_avgpool_digits28", &[0, 2, 3]);
}

#[test]
fn a_strided_cnn_proof_verifies_and_a_changed_output_is_rejected() {
    proves_and_rejects_a_changed_output("cnn_stride2_digits28");
}

#[test]
fn an_average_pooled_cnn_proof_verifies_and_a_changed_output_is_rejected() {
    proves_and_rejects_a_changed_output("cnn_avgpool_digits28");
}
