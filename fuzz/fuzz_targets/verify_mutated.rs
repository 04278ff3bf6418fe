//! Starts from a valid proof file (`seeds/proof_8_16_4.bin`, an `[8, 16, 4]` model on two
//! samples) and lets libFuzzer mutate it; every mutation must be rejected without a panic or an
//! abort. The input is applied as edits to the seed, so even an empty input is a valid proof.
//!
//! Input format: a sequence of 4-byte edits `[offset_lo, offset_hi, offset_top, value]`; edit
//! `k` XORs `value` into byte `offset % len` of the seed, and a trailing 1–3 bytes (if any) cut
//! the file at `(their little-endian value) % (len + 1)`.
#![no_main]

use glassbox_air::ModelDigest;
use libfuzzer_sys::fuzz_target;

const SEED: &[u8] = include_bytes!("../seeds/proof_8_16_4.bin");

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    let digest = ModelDigest::from_hex(include_str!("../seeds/proof_8_16_4.digest").trim())
        .expect("seed digest is valid hex");
    let mut bytes = SEED.to_vec();
    let mut edits = data.chunks_exact(4);
    for e in edits.by_ref() {
        let offset = u32::from_le_bytes([e[0], e[1], e[2], 0]) as usize % bytes.len();
        bytes[offset] ^= e[3];
    }
    let rest = edits.remainder();
    if !rest.is_empty() {
        let mut cut = [0u8; 4];
        cut[..rest.len()].copy_from_slice(rest);
        let cut = u32::from_le_bytes(cut) as usize % (bytes.len() + 1);
        bytes.truncate(cut);
    }
    let result = glassbox_verifier::verify(&bytes, &digest, 100);
    // Edits may cancel out (the same XOR twice), so compare with the seed.
    if bytes != SEED && result.is_ok() {
        eprintln!("a mutated proof was accepted");
        std::process::abort();
    }
});

/// `glassbox_verifier::verify` catches panics inside winterfell as its last line of defence, but
/// libfuzzer-sys's panic hook aborts on every panic, caught or not. Unless
/// `GLASSBOX_FUZZ_PANICS=1`, replace that hook with a silent one: a panic that escapes `verify`
/// still aborts (libfuzzer-sys aborts after its own `catch_unwind`), one it catches does not.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var("GLASSBOX_FUZZ_PANICS").is_err() {
            std::panic::set_hook(Box::new(|_| {}));
        }
    });
}
