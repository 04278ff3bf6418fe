//! The 32-byte model digest: what a verifier holds, committing to the descriptor, the weight
//! commitment's root and the weight sketches.

use core::fmt;

use winter_crypto::{hashers::Rp64_256, ElementHasher};

use crate::commitment::root_elements;
use crate::descriptor::ModelDescriptor;
use crate::field::Felt;

/// The 32-byte commitment to a compiled model: its descriptor, the root of its weight
/// commitment and its weight sketches (see [`crate::commitment`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelDigest(pub [u8; 32]);

impl ModelDigest {
    /// Computes the digest from the descriptor, the weight commitment's root and the weight
    /// sketches.
    pub fn compute(
        descriptor: &ModelDescriptor,
        weight_root: &[u8; 32],
        weight_sketch: &[Felt],
    ) -> Self {
        let mut elements = descriptor.to_elements();
        elements.extend(root_elements(weight_root));
        elements.extend_from_slice(weight_sketch);
        let digest = Rp64_256::hash_elements(&elements);
        let mut bytes = [0u8; 32];
        for (chunk, e) in bytes.chunks_mut(8).zip(digest.as_elements()) {
            chunk.copy_from_slice(&e.as_int().to_le_bytes());
        }
        Self(bytes)
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> alloc::string::String {
        use core::fmt::Write;
        let mut s = alloc::string::String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parses 64 hex characters (an optional `0x` prefix is accepted).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        let hex = hex.strip_prefix("0x").unwrap_or(hex);
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for ModelDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelDigest({})", self.to_hex())
    }
}

impl fmt::Display for ModelDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_malformed_digests() {
        let digest = ModelDigest(core::array::from_fn(|i| i as u8 * 7));
        let hex = digest.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(ModelDigest::from_hex(&hex), Some(digest));
        assert_eq!(
            ModelDigest::from_hex(&alloc::format!("0x{hex}")),
            Some(digest)
        );
        assert_eq!(ModelDigest::from_hex(&hex[1..]), None);
        assert_eq!(ModelDigest::from_hex(&hex.replace('0', "g")), None);
    }
}
