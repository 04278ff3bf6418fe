//! Fixtures compiled into the binary, so `demo` and `bench` work from any directory.

/// The 64-32-10 digits MLP (`fixtures/mlp_64_32_10.onnx`).
pub const MLP_64_32_10: &[u8] = include_bytes!("../../../fixtures/mlp_64_32_10.onnx");
/// The 64-128-64-10 digits MLP (`fixtures/mlp_64_128_64_10.onnx`).
pub const MLP_64_128_64_10: &[u8] = include_bytes!("../../../fixtures/mlp_64_128_64_10.onnx");
/// The first 100 training samples (`fixtures/digits_calib.json`), for calibration.
pub const DIGITS_CALIB: &str = include_str!("../../../fixtures/digits_calib.json");
/// The first 16 test samples of `fixtures/digits_test.json`, with their true labels.
pub const DIGITS_16: &str = include_str!("../assets/digits_16.json");

/// The default benchmark models: (name, ONNX bytes).
pub const BENCH_MODELS: [(&str, &[u8]); 2] = [
    ("mlp_64_32_10", MLP_64_32_10),
    ("mlp_64_128_64_10", MLP_64_128_64_10),
];

/// True labels of [`DIGITS_16`].
pub fn digits_16_labels() -> Vec<usize> {
    serde_json::from_str::<serde_json::Value>(DIGITS_16)
        .ok()
        .and_then(|v| {
            v.get("labels")?
                .as_array()?
                .iter()
                .map(|l| l.as_u64().map(|l| l as usize))
                .collect()
        })
        .unwrap_or_default()
}
