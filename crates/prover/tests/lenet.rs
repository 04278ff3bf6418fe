//! LeNet-5 on 28×28 digits (fixtures/lenet5_digits28.onnx): its convolutions compile to patch
//! layers (28 is not a power of two, so the stencil path cannot take them) whose max pools are the
//! pool unit's, the proven labels
//! agree with onnxruntime's on the stored test split, and a proof of one inference verifies with
//! the reference outputs while a changed convolution weight is rejected.

mod common;

use glassbox_air::{felt_from_i64, felt_to_i64, SecurityLevel};
use glassbox_prover::prove_trace;
use glassbox_trace::Program;
use glassbox_verifier::verify;

const LENET: &str = "lenet5_digits28";

#[test]
fn lenet_lowers_to_patch_layers_and_agrees_with_onnxruntime() {
    let q = common::compile_fixture(LENET);
    let patches: Vec<usize> = (0..q.layers.len())
        .filter(|&l| q.layers[l].patch.is_some())
        .collect();
    assert_eq!(patches, [0, 1], "both convolutions are patch layers");
    // and both max pools are the pool unit's: no layers of their own
    assert!(patches
        .iter()
        .all(|&l| q.layers[l].patch.as_ref().is_some_and(|p| p.pooled)));
    let (agree, total) = common::fixture_agreement(&q, LENET);
    assert!(agree * 100 >= 97 * total, "{agree} of {total} labels agree");
}

#[test]
fn a_lenet_proof_verifies_and_a_changed_convolution_weight_is_rejected() {
    let mut q = common::compile_fixture(LENET);
    q.proof_batch = Some(1);
    let program = Program::compile(&q).unwrap();
    let xs = common::fixture_inputs(&q, LENET, 1);
    common::proves_what_the_model_computes(&q, &program, &xs);
    let honest = program.trace(&xs).unwrap();
    // the first nonzero kernel cell of the second convolution, changed under the same digest
    let lay = honest.layout.layers[1].clone();
    let n = honest.layout.trace_len;
    let (col, row) = (lay.w_start..lay.w_start + lay.k)
        .flat_map(|c| (0..n).map(move |r| (c, r)))
        .find(|&(c, r)| felt_to_i64(honest.columns[c][r]) != 0)
        .unwrap();
    let mut t = honest;
    let w = felt_to_i64(t.columns[col][row]);
    t.columns[col][row] = felt_from_i64(if w < 127 { w + 1 } else { w - 1 });
    t.recount_lookups();
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    assert!(verify(&env.to_bytes(), &program.digest(), 100).is_err());
}

const RGB: &str = "rgb_cnn32";

/// The 3×32×32 RGB CNN: three same-padded convolutions, each a pooled, linear patch layer over
/// boxes as tall as the image and one spare column wider (32×64, 16×32, 8×16: its first layer has
/// 32,768 outputs) that clears the next box's spare cells through its biases (no mask layers:
/// four layers in all); its labels agree with onnxruntime's and one inference proves and
/// verifies.
#[test]
fn an_rgb_cnn_lowers_to_pooled_patch_layers_and_proves() {
    let mut q = common::compile_fixture(RGB);
    let pooled: Vec<usize> = (0..q.layers.len())
        .filter(|&l| q.layers[l].patch.as_ref().is_some_and(|p| p.pooled))
        .collect();
    assert_eq!(pooled.len(), 3, "three pooled convolutions");
    assert_eq!(q.layers.len(), 4, "and the head, no mask layers");
    assert_eq!(q.layers[pooled[0]].n_out, 16 * 32 * 64);
    assert!(pooled
        .iter()
        .all(|&l| q.layers[l].patch.as_ref().is_some_and(|p| p.linear)));
    let (agree, total) = common::fixture_agreement(&q, RGB);
    assert!(agree * 100 >= 97 * total, "{agree} of {total} labels agree");
    // a default compile leaves room for 64 samples per proof only within 2 GiB of proving
    // memory: here the single-inference layout, and bundles for big batches (LeNet-5 keeps its
    // 64-sample layout)
    let default = Program::compile(&q).unwrap();
    assert!(default.max_batch() < glassbox_trace::DEFAULT_PROOF_BATCH);
    let lenet = Program::compile(&common::compile_fixture(LENET)).unwrap();
    assert!(lenet.max_batch() >= glassbox_trace::DEFAULT_PROOF_BATCH);
    q.proof_batch = Some(1);
    let program = Program::compile(&q).unwrap();
    assert_eq!(program.descriptor.trace_len, default.descriptor.trace_len);
    let xs = common::fixture_inputs(&q, RGB, 1);
    common::proves_what_the_model_computes(&q, &program, &xs);
}

const RESNET: &str = "resnet_digits28";

/// LeNet-5 with a ResNet basic block after its first pool (`s → Conv → Relu → Conv → Add(s) →
/// Relu`, 6 channels of 14×14): the skip rides along as six carried planes of the block's first
/// convolution and its second adds them back, so all four convolutions stay patch layers; the
/// labels agree with onnxruntime's, one inference proves what the integer model computes, and a
/// weight cell of the carrying layer holding its carried weight `λ`, changed under the same
/// digest, is rejected.
#[test]
fn a_residual_block_rides_along_in_patch_layers_and_proves() {
    let mut q = common::compile_fixture(RESNET);
    let outs: Vec<usize> = q
        .layers
        .iter()
        .filter_map(|l| l.patch.as_ref().map(|p| p.out_channels))
        .collect();
    assert_eq!(
        outs,
        [6, 12, 6, 16],
        "the block's first layer carries the skip's 6 planes"
    );
    let (agree, total) = common::fixture_agreement(&q, RESNET);
    assert!(agree * 100 >= 97 * total, "{agree} of {total} labels agree");
    q.proof_batch = Some(1);
    let program = Program::compile(&q).unwrap();
    let xs = common::fixture_inputs(&q, RESNET, 1);
    common::proves_what_the_model_computes(&q, &program, &xs);
    // the carried weight λ (the carrying layer's rows 6.. read one plane each at offset 0)
    let honest = program.trace(&xs).unwrap();
    let carrier = 1;
    let lay = honest.layout.layers[carrier].clone();
    let n = honest.layout.trace_len;
    let kernel = &program.weights[carrier];
    let carried = 6 * lay.n_in;
    let lambda = kernel[carried..carried + lay.n_in]
        .iter()
        .copied()
        .find(|&w| w != 0)
        .unwrap();
    assert!(
        lambda > 0,
        "the carried plane is read with a positive weight"
    );
    let cells: Vec<(usize, usize)> = (lay.w_start..lay.w_start + lay.k)
        .flat_map(|c| (0..n).map(move |r| (c, r)))
        .filter(|&(c, r)| felt_to_i64(honest.columns[c][r]) == i64::from(lambda))
        .collect();
    assert!(!cells.is_empty());
    let mut t = honest;
    let (col, row) = cells[0];
    t.columns[col][row] = felt_from_i64(i64::from(lambda) - 1);
    t.recount_lookups();
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    assert!(verify(&env.to_bytes(), &program.digest(), 100).is_err());
}
