//! Arbitrary text through the EZKL-style input JSON parser, with and without a fixed length.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = glassbox_model::parse_input_json(text, None);
    let _ = glassbox_model::parse_input_json(text, Some(64));
});
