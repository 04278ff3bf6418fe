//! The digits CNN through the lowering: proven (integer) labels against the float model on the
//! whole test split, the layer structure, and clear refusals for what is not lowered yet.

mod support;

use glassbox_model::{compile_onnx, load_onnx, ModelError, QuantizedModel};
use support::{fixture, samples, upsampled};

/// The digits samples of `file` as fixture `name` takes them (16×16 for `cnn_digits16`).
fn digits(name: &str, file: &str) -> Vec<Vec<f32>> {
    let s = samples(file, Some(64));
    if name.starts_with("cnn_digits16") {
        upsampled(&s)
    } else {
        s
    }
}

/// Compiles fixture `name` with the digits calibration set; returns it with its layer shapes.
fn lowered(name: &str) -> (Vec<u8>, QuantizedModel, Vec<(usize, usize, usize)>) {
    let onnx = fixture(name);
    let (q, report) = compile_onnx(&onnx, Some(&digits(name, "digits_calib.json"))).unwrap();
    println!("{}", report.unwrap());
    let shape = q
        .layers
        .iter()
        .map(|l| (l.n_in, l.n_out, l.groups))
        .collect();
    (onnx, q, shape)
}

/// Asserts that at least 97% of the test split keep the float graph's label.
fn assert_keeps_labels(onnx: &[u8], q: &QuantizedModel) {
    let graph = load_onnx(onnx).unwrap();
    let test = digits(&graph.name, "digits_test.json");
    let execs = q.run_f32(&test).unwrap();
    let agree = test
        .iter()
        .zip(&execs)
        .filter(|(x, e)| {
            let logits = graph.run_f32(x).unwrap();
            let best = (0..logits.len()).fold(0, |b, i| if logits[i] > logits[b] { i } else { b });
            best == e.label
        })
        .count();
    println!(
        "{}: {agree}/{} quantized labels agree with float",
        graph.name,
        test.len()
    );
    assert!(agree * 100 >= 97 * test.len(), "{agree}/{}", test.len());
}

#[test]
fn the_digits_cnn_keeps_the_float_labels_on_the_test_split() {
    let (onnx, q, shape) = lowered("cnn_digits.onnx");
    // conv (Toeplitz) 64→512, max-pool pair 512→512→256 (128 windows), Gemm 256→10
    assert_eq!(
        shape,
        vec![(64, 512, 1), (512, 512, 128), (512, 256, 128), (256, 10, 1)]
    );
    assert_keeps_labels(&onnx, &q);
    // max pooling is exact: every window's maximum equals the sum of its pair
    let test = samples("digits_test.json", Some(64));
    for exec in q.run_f32(&test[..20]).unwrap() {
        let conv = &exec.layers[1].input; // ReLU'd conv outputs, window by window
        let pooled = &exec.layers[3].input; // [relu(m1 − m2), m2] per window
        for (w, quad) in conv.chunks(4).enumerate() {
            let max = quad.iter().copied().max().unwrap();
            assert_eq!(pooled[2 * w] + pooled[2 * w + 1], max);
        }
    }
}

#[test]
fn the_residual_cnn_with_leaky_relu_keeps_the_float_labels() {
    let (onnx, q, shape) = lowered("cnn_residual.onnx");
    // conv1 64→512, max-pool pair → 256 (s, as 128 pairs); conv2 256→128 plus 128 rows carrying
    // s; conv3 256→128 with s added in (its carrying rows dropped); Gemm 128→64 doubled for
    // LeakyRelu; Gemm 128→10
    assert_eq!(
        shape,
        vec![
            (64, 512, 1),
            (512, 512, 128),
            (512, 256, 128),
            (256, 256, 1),
            (256, 128, 1),
            (128, 128, 1),
            (128, 10, 1)
        ]
    );
    assert_keeps_labels(&onnx, &q);
}

#[test]
fn the_16x16_cnn_keeps_the_float_labels_and_records_its_convolutions() {
    let (onnx, q, shape) = lowered("cnn_digits16.onnx");
    // conv 256→2048, pool pair, conv (reading the pool's pairs) 1024→512, pool pair, Gemm
    assert_eq!(
        shape,
        vec![
            (256, 2048, 1),
            (2048, 2048, 512),
            (2048, 1024, 512),
            (1024, 512, 1),
            (512, 512, 128),
            (512, 256, 128),
            (256, 10, 1)
        ]
    );
    assert_keeps_labels(&onnx, &q);
    for (l, copies, channels, side) in [(0, 1, 1, 16), (3, 2, 8, 8)] {
        let conv = q.layers[l]
            .conv
            .as_ref()
            .expect("a convolution layer records its geometry");
        assert_eq!(
            (conv.copies, conv.channels, conv.height, conv.width),
            (copies, channels, side, side)
        );
        assert_eq!((conv.out_channels, conv.kernel_h, conv.pad_top), (8, 3, 1));
        // pooling reordered the outputs window by window: a permutation of the natural order
        let mut order = conv.out_order.clone();
        assert_ne!(order, (0..order.len() as u32).collect::<Vec<_>>());
        order.sort_unstable();
        assert_eq!(order, (0..order.len() as u32).collect::<Vec<_>>());
        // every weight lies on the 3×3 stencil of its output
        let w = &q.layers[l].weights;
        let n_in = q.layers[l].n_in;
        for (r, &i) in conv.out_order.iter().enumerate() {
            let (y, x) = ((i as usize / side) % side, i as usize % side);
            for (j, &v) in w[r * n_in..(r + 1) * n_in].iter().enumerate() {
                let (qy, qx) = ((j / copies / side) % side, (j / copies) % side);
                let near = qy.abs_diff(y) <= 1 && qx.abs_diff(x) <= 1;
                assert!(v == 0 || near, "layer {l}: weight off the stencil");
            }
        }
    }
    // layers that are not plain convolutions record none
    assert!(q.layers.iter().filter(|l| l.conv.is_some()).count() == 2);
}

#[test]
fn unsupported_graphs_are_refused_with_a_reason() {
    let onnx = fixture("cnn_ops.onnx");
    let err = compile_onnx(&onnx, None).unwrap_err();
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
    println!("{err}");
}
