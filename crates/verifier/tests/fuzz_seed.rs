//! The committed fuzz seeds (`fuzz/seeds/proof_8_16_4.{bin,digest}`, embedded by the
//! `verify_mutated` fuzz target, and `model_8_16_4.gbm`) must stay a valid proof for today's
//! verifier and a loadable artifact.
//!
//! Regenerate after any change to the AIR, the prover or the envelope with
//! `GLASSBOX_REGEN_SEEDS=1 cargo test -p glassbox-verifier --test fuzz_seed`.

mod common;

use std::path::PathBuf;

use glassbox_air::ModelDigest;

const REGEN: &str = "GLASSBOX_REGEN_SEEDS=1 cargo test -p glassbox-verifier --test fuzz_seed";

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

#[test]
fn committed_fuzz_seed_verifies() {
    if std::env::var_os("GLASSBOX_REGEN_SEEDS").is_some() {
        regenerate_fuzz_seeds();
    }
    let dir = seeds();
    let bytes = std::fs::read(dir.join("proof_8_16_4.bin"))
        .unwrap_or_else(|e| panic!("cannot read the fuzz seed ({e}); regenerate with `{REGEN}`"));
    let hex = std::fs::read_to_string(dir.join("proof_8_16_4.digest")).expect("seed digest");
    let digest = ModelDigest::from_hex(hex.trim()).expect("seed digest is hex");
    if let Err(e) = glassbox_verifier::verify(&bytes, &digest, 100) {
        panic!("the committed fuzz seed no longer verifies ({e}); regenerate with `{REGEN}`");
    }
    // the model_artifact target starts from a loadable artifact of today's format
    let model = std::fs::read(dir.join("model_8_16_4.gbm")).expect("seed model");
    if let Err(e) = glassbox_model::QuantizedModel::from_bytes(&model) {
        panic!("the committed model seed no longer loads ({e}); regenerate with `{REGEN}`");
    }
}

/// Writes fresh seeds (only when `GLASSBOX_REGEN_SEEDS` is set).
fn regenerate_fuzz_seeds() {
    let h = common::honest();
    let dir = seeds();
    std::fs::write(dir.join("proof_8_16_4.bin"), &h.bytes).expect("write seed proof");
    std::fs::write(
        dir.join("proof_8_16_4.digest"),
        format!("{}\n", h.digest.to_hex()),
    )
    .expect("write seed digest");
    std::fs::write(
        dir.join("model_8_16_4.gbm"),
        h.model.to_bytes().expect("encode model"),
    )
    .expect("write seed model");
    println!("wrote {} ({} bytes)", dir.display(), h.bytes.len());
}
