//! Reading inputs with clear errors and writing outputs atomically.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use glassbox_model::QuantizedModel;

/// Reads a whole file; the error names `what` and the path.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Reads a UTF-8 text file.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Loads a compiled `.gbm` model.
pub fn load_model(path: &Path) -> Result<QuantizedModel> {
    let bytes = read(path, "compiled model")?;
    QuantizedModel::from_bytes(&bytes).with_context(|| {
        format!(
            "{} is not a compiled glassbox model (make one with `glassbox compile MODEL.onnx`)",
            path.display()
        )
    })
}

/// Parses EZKL-style input JSON whose samples must each have `input_len` values.
pub fn load_inputs(path: &Path, input_len: usize) -> Result<Vec<Vec<f32>>> {
    let text = read_text(path, "input file")?;
    glassbox_model::parse_input_json(&text, Some(input_len)).with_context(|| {
        format!(
            "bad inputs in {} (the model takes {input_len} values per sample)",
            path.display()
        )
    })
}

/// Installs a Ctrl-C / SIGTERM handler: it removes any temporary file being written, says that
/// no partial output was left, and exits with status 130. Outputs are only ever created by
/// renaming a complete temporary file, so an interrupted run leaves either the whole file or
/// nothing.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        glassbox::files::remove_in_flight();
        eprintln!("interrupted: nothing was written, and no partial output was left");
        std::process::exit(130);
    });
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(glassbox::files::write_atomic(path, bytes)?)
}

/// Fails unless `path`'s directory exists, so that long work is not done for a file that cannot
/// be written.
pub fn check_output_dir(path: &Path) -> Result<()> {
    Ok(glassbox::files::check_output_dir(path)?)
}
