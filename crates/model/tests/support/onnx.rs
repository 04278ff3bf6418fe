//! ONNX protobuf builders for hand-made test models, shared by the model crate's integration
//! tests (the loader's, the robustness suite's).

use glassbox_model::onnx::{
    attribute_type, data_type, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};
use prost::Message;

/// A float tensor's value info; `None` dimensions are symbolic (`N`).
pub fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            dim_value: *d,
                            dim_param: d.is_none().then(|| "N".to_string()),
                            denotation: String::new(),
                        })
                        .collect(),
                }),
            }),
            denotation: String::new(),
        }),
        doc_string: String::new(),
    }
}

/// A node of type `op` named `name` from `inputs` to one `output`.
pub fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: name.into(),
        op_type: op.into(),
        ..Default::default()
    }
}

/// A float initializer.
pub fn float_tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: data.to_vec(),
        name: name.into(),
        ..Default::default()
    }
}

/// Gemm's `transB = 1`.
pub fn trans_b() -> AttributeProto {
    AttributeProto {
        name: "transB".into(),
        r#type: attribute_type::INT,
        i: 1,
        ..Default::default()
    }
}

/// The graph of `nodes` over a 2-input MLP's weights (`w0 [3, 2]`, `b0 [3]`, `w1 [2, 3]`,
/// `b1 [2]`), from `input [N, 2]` to `output [N, 2]`.
pub fn two_input_graph(nodes: Vec<NodeProto>, output: &str) -> GraphProto {
    GraphProto {
        node: nodes,
        name: "t".into(),
        initializer: vec![
            float_tensor("w0", &[3, 2], &[1.0, 0.0, 0.0, 1.0, -1.0, -1.0]),
            float_tensor("b0", &[3], &[0.0, 0.0, 0.5]),
            float_tensor("w1", &[2, 3], &[1.0, 2.0, 3.0, -1.0, 0.0, 1.0]),
            float_tensor("b1", &[2], &[0.25, 0.0]),
        ],
        input: vec![value_info("input", &[None, Some(2)])],
        output: vec![value_info(output, &[None, Some(2)])],
        ..Default::default()
    }
}

/// `g` as an ONNX file (IR 8, opset 13).
pub fn encode(g: GraphProto) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(g),
        ..Default::default()
    }
    .encode_to_vec()
}
