//! glassbox's verifier for the browser: [`glassbox_verifier`] (built `no_std` + `alloc`, checking
//! exactly what it checks natively) bound to JavaScript with wasm-bindgen.
//!
//! Every function returns a plain JS object (see [`report`]): `{valid: true, kind: "valid", …the
//! claim…}` or `{valid: false, kind: "invalid" | "error", error: "reason"}`. None throws. A panic
//! inside winterfell, which the verifier's pre-scan is there to make unreachable, cannot be caught
//! on wasm (no unwinding): it aborts, JavaScript sees a `WebAssembly.RuntimeError`, and
//! `web/glassbox.js` reports a rejection and runs the next call in a fresh instance.
//! [`trap_for_tests`] exists so that path is tested.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod report;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: milliseconds, available in windows and workers.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

fn to_js(value: &serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

/// Verifies one proof file (`.gbp` bytes) against a published digest (64 hex characters),
/// requiring `min_bits` of conjectured security; with `inputs_json` (EZKL-style
/// `{"input_data": [[...]]}`), also that the proven int8 inputs are exactly the committed encoding
/// of those raw inputs, as `glassbox verify --inputs` does.
#[wasm_bindgen]
pub fn verify(
    proof_bytes: &[u8],
    digest_hex: &str,
    min_bits: u32,
    inputs_json: Option<String>,
) -> JsValue {
    to_js(&report::verify_proof(
        proof_bytes,
        digest_hex,
        min_bits,
        inputs_json.as_deref(),
        &performance_now,
    ))
}

/// Verifies a bundle: the manifest's JSON (`PROOF.bundle.json`) and the files the user chose,
/// `names[i]` holding `files[i]`; every listed proof must verify against `digest_hex` and the
/// proofs must be one bundle in order, matching the manifest's digest and totals.
#[wasm_bindgen]
pub fn verify_bundle(
    manifest_json: &str,
    names: Vec<String>,
    files: Vec<js_sys::Uint8Array>,
    digest_hex: &str,
    min_bits: u32,
    inputs_json: Option<String>,
) -> JsValue {
    let files: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .zip(files.iter().map(js_sys::Uint8Array::to_vec))
        .collect();
    to_js(&report::verify_bundle(
        manifest_json,
        &files,
        digest_hex,
        min_bits,
        inputs_json.as_deref(),
        &performance_now,
    ))
}

/// The digest a bundle manifest names (the page can take the digest from it), or an error string
/// prefixed with `error: `.
#[wasm_bindgen]
pub fn manifest_digest(manifest_json: &str) -> String {
    report::manifest_digest(manifest_json).unwrap_or_else(|e| format!("error: {e}"))
}

/// The largest proof file the verifier reads ([`glassbox_verifier::MAX_PROOF_BYTES`]): the page
/// rejects larger files before copying them into the instance's memory.
#[wasm_bindgen]
pub fn max_proof_bytes() -> usize {
    glassbox_verifier::MAX_PROOF_BYTES
}

/// Panics, so the page's recovery from a trapped instance can be tested (web/tests). Calling it
/// only kills the current instance, which `web/glassbox.js` replaces.
#[wasm_bindgen]
pub fn trap_for_tests() {
    panic!("trap_for_tests: a deliberate panic");
}
