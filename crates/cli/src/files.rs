//! Reading inputs with clear errors and writing outputs atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
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

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let Some(name) = path.file_name() else {
        bail!("output path {} has no file name", path.display());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot write {}", path.display()))
}
