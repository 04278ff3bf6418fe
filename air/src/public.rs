//! Public inputs: what a proof claims, and everything the verifier feeds into the AIR.

use alloc::vec::Vec;

use winter_math::{FieldElement, ToElements};

use crate::bundle::BundlePosition;
use crate::commitment::root_elements;
use crate::descriptor::{DescriptorError, ModelDescriptor};
use crate::digest::ModelDigest;
use crate::field::{felt_from_i64, Felt};
use crate::layout::Layout;
use crate::limits::{MAX_OUTPUT, SKETCHES};

/// The statement a proof proves: `descriptor`'s model (with the weights committed by
/// `weight_root`) maps each of `inputs` to the matching `outputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicInputs {
    /// The model's public description.
    pub descriptor: ModelDescriptor,
    /// Quantized inputs (int8), one vector per sample.
    pub inputs: Vec<Vec<i64>>,
    /// Raw integer outputs (last-layer accumulators), one vector per sample.
    pub outputs: Vec<Vec<i64>>,
    /// Outputs of the all-zero input, which fills the unused batch lanes: stated exactly when
    /// the layout has a padding lane (`batch < batch_capacity`), empty when the batch fills the
    /// proof's capacity (then nothing would prove them).
    pub padding_outputs: Vec<i64>,
    /// Root of the weight commitment (see [`crate::commitment`]); the digest commits to it.
    pub weight_root: [u8; 32],
    /// The weight sketches (see [`crate::commitment`]); the digest commits to them.
    pub weight_sketch: [Felt; SKETCHES],
    /// This proof's place in its bundle (see [`crate::bundle`]).
    pub bundle: BundlePosition,
}

impl PublicInputs {
    /// Number of real samples.
    pub fn batch(&self) -> usize {
        self.inputs.len()
    }

    /// The model digest these public inputs commit to.
    pub fn digest(&self) -> ModelDigest {
        ModelDigest::compute(&self.descriptor, &self.weight_root, &self.weight_sketch)
    }

    /// Checks every shape and range and returns the layout the proof must use.
    ///
    /// # Errors
    /// The first inconsistency, as a human-readable reason.
    pub fn validate(&self) -> Result<Layout, &'static str> {
        let layout = Layout::new(&self.descriptor, self.batch()).map_err(|e| match e {
            DescriptorError::Layout { .. } | DescriptorError::TooWide { .. } => {
                "the batch does not fit one proof of this model"
            }
            DescriptorError::VerifierCost { .. } => {
                "the statement would make verification unreasonably expensive"
            }
            _ => "the model descriptor is invalid",
        })?;
        if self.inputs.is_empty() || self.inputs.len() != self.outputs.len() {
            return Err("inputs and outputs must hold the same, non-zero number of samples");
        }
        let (n_in, n_out) = (self.descriptor.input_len(), self.descriptor.output_len());
        if self
            .inputs
            .iter()
            .any(|x| x.len() != n_in || x.iter().any(|v| !(-128..=127).contains(v)))
        {
            return Err("an input sample has the wrong length or a value outside int8");
        }
        let out_ok = |y: &Vec<i64>| y.len() == n_out && y.iter().all(|v| v.abs() < MAX_OUTPUT);
        if !self.outputs.iter().all(out_ok) {
            return Err("an output vector has the wrong length or an out-of-range value");
        }
        if self.batch() < layout.batch_capacity {
            if !out_ok(&self.padding_outputs) {
                return Err("the padding outputs have the wrong length or an out-of-range value");
            }
        } else if !self.padding_outputs.is_empty() {
            return Err("padding outputs are stated but the batch fills every lane");
        }
        self.bundle.check(&self.inputs)?;
        Ok(layout)
    }
}

impl ToElements<Felt> for PublicInputs {
    fn to_elements(&self) -> Vec<Felt> {
        let mut out = self.descriptor.to_elements();
        out.push(Felt::new(self.batch() as u64));
        for v in self.inputs.iter().chain(self.outputs.iter()) {
            out.extend(v.iter().map(|&x| felt_from_i64(x)));
        }
        out.extend(self.padding_outputs.iter().map(|&x| felt_from_i64(x)));
        out.extend(root_elements(&self.weight_root));
        out.extend_from_slice(&self.weight_sketch);
        out.extend(self.bundle.to_elements());
        out.push(Felt::ONE);
        out
    }
}
