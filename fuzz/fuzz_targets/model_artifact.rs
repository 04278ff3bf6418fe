//! Arbitrary bytes into the compiled-model artifact decoder. A decoded model must re-encode to
//! exactly the same bytes (one canonical encoding) and run without panicking.
#![no_main]

use glassbox_model::QuantizedModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = QuantizedModel::from_bytes(data) else {
        return;
    };
    let bytes = model.to_bytes().expect("a decoded model re-encodes");
    assert_eq!(bytes, data, "artifact encoding is not canonical");
    let x = vec![vec![0i64; model.input_len]];
    if model.input_len <= 1 << 16
        && model.layers.iter().map(|l| l.weights.len()).sum::<usize>() <= 1 << 20
    {
        let _ = model.run(&x);
    }
});
