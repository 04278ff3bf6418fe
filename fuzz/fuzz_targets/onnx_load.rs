//! Arbitrary bytes through the whole model front end: ONNX import, then every lowering (MLP,
//! tree/linear, CNN) and quantization with default calibration, and one integer run. Every stage
//! must return an error rather than panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = glassbox_model::load_onnx(data) else {
        return;
    };
    let zeros = vec![0.0f32; graph.input_len];
    let _ = graph.run_f32(&zeros);
    if let Ok((model, _)) = glassbox_model::compile_onnx(data, None) {
        let _ = model.run_f32(&[vec![0.0f32; model.input_len]]);
    }
});
