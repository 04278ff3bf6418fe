//! Small shared pieces of the printed reports.

use glassbox_air::SecurityLevel;
use glassbox_trace::Program;

/// First 16 hex characters of the blake3 hash of the quantized inputs (one byte per int8 value,
/// samples concatenated): a short handle to compare the inputs a proof claims.
pub fn inputs_hash(inputs: &[Vec<i64>]) -> String {
    let mut h = blake3::Hasher::new();
    for x in inputs {
        let bytes: Vec<u8> = x.iter().map(|&v| v as i8 as u8).collect();
        h.update(&bytes);
    }
    h.finalize().to_hex()[..16].to_string()
}

/// First 16 hex characters of the blake3 hash of one sample's int8 inputs (one byte each): the
/// per-sample handle `verify` prints beside each label.
pub fn sample_hash(input: &[i64]) -> String {
    inputs_hash(std::slice::from_ref(&input.to_vec()))
}

/// One line per sample numbered from `first`: label, inputs hash and outputs with 3 decimals.
pub fn sample_lines_with_inputs(
    first: usize,
    outputs: &[Vec<f64>],
    labels: &[usize],
    hashes: &[String],
) -> Vec<String> {
    outputs
        .iter()
        .zip(labels)
        .zip(hashes)
        .enumerate()
        .map(|(i, ((y, l), h))| {
            let ys: Vec<String> = y.iter().map(|v| format!("{v:.3}")).collect();
            format!(
                "sample {:3}: label {l}  inputs {h}  [{}]",
                first + i,
                ys.join(", ")
            )
        })
        .collect()
}

/// One line per sample: label and outputs with 3 decimals.
pub fn sample_lines(outputs: &[Vec<f64>], labels: &[usize]) -> Vec<String> {
    outputs
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (y, l))| {
            let ys: Vec<String> = y.iter().map(|v| format!("{v:.3}")).collect();
            format!("sample {i:3}: label {l}  [{}]", ys.join(", "))
        })
        .collect()
}

/// `64→32, 32→10`.
pub fn layer_shapes(program: &Program) -> String {
    program
        .descriptor
        .layers
        .iter()
        .map(|l| match &l.conv {
            Some(c) => format!(
                "{}→{} (stencil {}×{})",
                l.n_in, l.n_out, c.kernel_h, c.kernel_w
            ),
            None => format!("{}→{}", l.n_in, l.n_out),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `N rows × main + aux columns` for `batch` samples (or the error message).
pub fn trace_shape(program: &Program, batch: usize) -> String {
    match program.layout(batch) {
        Ok(l) => format!(
            "{} rows × {} main + {} aux columns",
            l.trace_len, l.main_width, l.aux.width
        ),
        Err(e) => e.to_string(),
    }
}

/// `up to N samples per proof`, with the `--proof-batch` the trace was sized for, if any.
pub fn batch_capacity(program: &Program, proof_batch: Option<u32>) -> String {
    let sized = proof_batch.map_or(String::new(), |k| format!(" (sized for {k})"));
    format!("up to {} samples per proof{sized}", program.max_batch())
}

/// Parses `100` or `128` into a preset.
pub fn parse_security(bits: u32) -> anyhow::Result<SecurityLevel> {
    match bits {
        100 => Ok(SecurityLevel::Bits100),
        128 => Ok(SecurityLevel::Bits128),
        other => anyhow::bail!("--security must be 100 or 128, not {other}"),
    }
}

/// Bytes as KB with one decimal.
pub fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}
