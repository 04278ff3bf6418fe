//! `glassbox inspect FILE`: describes an ONNX model, a `.gbm` artifact or a `.gbp` proof, chosen
//! by the file's magic bytes (ONNX has none: anything else is tried as ONNX).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use glassbox_air::{ProofEnvelope, ENVELOPE_MAGIC};
use glassbox_model::{Operand, QuantizedModel};
use glassbox_trace::Program;
use serde_json::{json, Value};

use crate::{files, summary};

/// Describe an ONNX model, a `.gbm` artifact or a `.gbp` proof.
#[derive(clap::Args)]
pub struct Args {
    /// The file to describe.
    file: PathBuf,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let bytes = files::read(&self.file, "file")?;
        let name = self.file.display();
        let (value, text) = if bytes.starts_with(&ENVELOPE_MAGIC) {
            let env = ProofEnvelope::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("{name} starts like a proof but does not parse"))?;
            proof(&env, bytes.len())
        } else if bytes.starts_with(glassbox_model::MAGIC) {
            let model = QuantizedModel::from_bytes(&bytes).with_context(|| {
                format!("{name} starts like a compiled model but does not parse")
            })?;
            compiled(&model, bytes.len())?
        } else {
            onnx(&bytes).with_context(|| {
                format!("{name} is neither a glassbox proof, a compiled model nor a readable ONNX model")
            })?
        };
        if json {
            say!("{value}");
        } else {
            say!("{name}: {text}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn proof(env: &ProofEnvelope, size: usize) -> (Value, String) {
    let p = &env.public;
    let digest = p.digest().to_hex();
    let bits = env.security.conjectured_bits();
    let layers: Vec<[usize; 2]> = p
        .descriptor
        .layers
        .iter()
        .map(|l| [l.n_in, l.n_out])
        .collect();
    let layout = p.validate();
    let b = p.bundle;
    let shape = match &layout {
        Ok(l) => format!(
            "{} rows × {} main + {} aux columns",
            l.trace_len, l.main_width, l.aux.width
        ),
        Err(e) => format!("invalid statement: {e}"),
    };
    let value = json!({
        "kind": "proof",
        "digest": digest,
        "samples": p.batch(),
        "inputs_hash": summary::inputs_hash(&p.inputs),
        "layers": layers,
        "trace_len": layout.as_ref().ok().map(|l| l.trace_len),
        "main_width": layout.as_ref().ok().map(|l| l.main_width),
        "aux_width": layout.as_ref().ok().map(|l| l.aux.width),
        "security_bits": bits,
        "bytes": size,
        "bundle": {
            "id": glassbox_air::bundle::id_hex(&b.id), "chunk": b.chunk, "chunks": b.chunks,
            "first_sample": b.first_sample, "samples": b.samples,
        },
        "verified": false,
    });
    let text = format!(
        "glassbox proof ({}, NOT verified: use `glassbox verify`)\n  claims model {digest}\n  \
         samples   {} (inputs blake3 {})\n  bundle    chunk {} of {} of bundle {}, samples {}..{} of {}\n  \
         trace     {shape}\n  security  {bits} bits (conjectured)",
        summary::kb(size),
        p.batch(),
        summary::inputs_hash(&p.inputs),
        b.chunk,
        b.chunks,
        &glassbox_air::bundle::id_hex(&b.id)[..16],
        b.first_sample,
        b.end_sample(p.batch()),
        b.samples,
    );
    (value, text)
}

fn compiled(model: &QuantizedModel, size: usize) -> Result<(Value, String)> {
    let program = Program::compile(model).context("the model does not fit a layout")?;
    let layout = program.layout(1)?;
    let digest = program.digest().to_hex();
    let layers: Vec<Value> = model
        .layers
        .iter()
        .map(|l| json!({"n_in": l.n_in, "n_out": l.n_out, "multiplier": l.multiplier}))
        .collect();
    let value = json!({
        "kind": "compiled_model",
        "name": model.name,
        "digest": digest,
        "layers": layers,
        "input_scale": model.input_scale,
        "output_scale": model.output_scale,
        "trace_len": layout.trace_len,
        "main_width": layout.main_width,
        "aux_width": layout.aux.width,
        "max_batch": program.max_batch(),
        "proof_batch": model.proof_batch,
        "bytes": size,
    });
    let text = format!(
        "compiled glassbox model `{}` ({})\n  layers    {}\n  digest    {digest}\n  \
         trace     {} (one sample)\n  batch     {}",
        model.name,
        summary::kb(size),
        summary::layer_shapes(&program),
        summary::trace_shape(&program, 1),
        summary::batch_capacity(&program, model.proof_batch)
    );
    Ok((value, text))
}

fn onnx(bytes: &[u8]) -> Result<(Value, String)> {
    let graph = glassbox_model::load_onnx(bytes)?;
    let mut lines = vec![format!(
        "ONNX model `{}`: input `{}` {:?}, output `{}`{}",
        graph.name,
        graph.input_name,
        graph.input_shape,
        graph.output_name,
        if graph.classifier {
            " (classifier)"
        } else {
            ""
        }
    )];
    let mut nodes = Vec::new();
    for node in &graph.nodes {
        let shapes: Vec<Vec<usize>> = node
            .inputs
            .iter()
            .filter_map(|o| match *o {
                Operand::Const(c) => graph.constants.get(c).map(|t| t.shape.clone()),
                Operand::Value(_) => None,
            })
            .collect();
        lines.push(format!(
            "  {:<10} {:<20} constants {:?}",
            node.op_type, node.name, shapes
        ));
        nodes.push(json!({"op": node.op_type, "name": node.name, "constant_shapes": shapes}));
    }
    // the lowering `compile` runs (without calibration: default scales)
    let lowered = glassbox_model::compile_graph(&graph, None);
    let provable = match &lowered {
        Ok((model, _)) => format!("yes ({} integer layers)", model.layers.len()),
        Err(e) => format!("no: {e}"),
    };
    lines.push(format!("  provable  {provable}"));
    let value = json!({
        "kind": "onnx",
        "name": graph.name,
        "input": graph.input_name,
        "input_shape": graph.input_shape,
        "output": graph.output_name,
        "classifier": graph.classifier,
        "nodes": nodes,
        "provable": lowered.is_ok(),
        "error": lowered.err().map(|e| e.to_string()),
    });
    Ok((value, lines.join("\n")))
}
