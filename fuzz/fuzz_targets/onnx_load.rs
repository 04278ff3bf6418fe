//! Arbitrary bytes through the whole model front end: ONNX import, lowering and quantization
//! (with default calibration). Every stage must return an error rather than panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = glassbox_model::load_onnx(data) else {
        return;
    };
    let Ok(mlp) = glassbox_model::FloatMlp::from_graph(&graph) else {
        return;
    };
    if let Ok(model) = glassbox_model::quantize(&mlp, None) {
        let zeros = vec![0.0f32; model.input_len];
        let _ = model.run_f32(&[zeros]);
    }
});
