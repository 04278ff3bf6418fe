//! Proof-option presets. The verifier accepts exactly these, never what a proof claims.

use winter_air::{BatchingMethod, FieldExtension, ProofOptions};

/// A named security preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// 102 bits conjectured: quadratic extension, blowup 8, 29 queries, 16 bits of grinding.
    Bits100,
    /// 128 bits conjectured: cubic extension, blowup 8, 38 queries, 16 bits of grinding.
    Bits128,
}

impl SecurityLevel {
    /// Every preset, weakest first.
    pub const ALL: [SecurityLevel; 2] = [SecurityLevel::Bits100, SecurityLevel::Bits128];

    /// The winterfell options of this preset.
    pub fn options(self) -> ProofOptions {
        let (queries, extension) = match self {
            Self::Bits100 => (29, FieldExtension::Quadratic),
            Self::Bits128 => (38, FieldExtension::Cubic),
        };
        ProofOptions::new(
            queries,
            8,
            16,
            extension,
            8,
            127,
            BatchingMethod::Linear,
            BatchingMethod::Linear,
        )
    }

    /// Conjectured security in bits (Blake3-256 commitments, Goldilocks field), as winterfell
    /// computes it: `min(64·ext, log2(blowup)·queries + grinding) − 1`, capped at 128.
    pub fn conjectured_bits(self) -> u32 {
        let o = self.options();
        let field = 64 * o.field_extension().degree();
        let queries = o.blowup_factor().ilog2() * o.num_queries() as u32 + o.grinding_factor();
        (field.min(queries) - 1).min(128)
    }

    /// The preset whose options equal `options`, if any.
    pub fn from_options(options: &ProofOptions) -> Option<Self> {
        Self::ALL.into_iter().find(|l| &l.options() == options)
    }

    /// The weakest preset with at least `bits` of conjectured security.
    pub fn at_least(bits: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.conjectured_bits() >= bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_reach_their_levels() {
        assert_eq!(SecurityLevel::Bits100.conjectured_bits(), 102);
        assert_eq!(SecurityLevel::Bits128.conjectured_bits(), 128);
        assert_eq!(SecurityLevel::at_least(100), Some(SecurityLevel::Bits100));
        assert_eq!(SecurityLevel::at_least(103), Some(SecurityLevel::Bits128));
        assert_eq!(SecurityLevel::at_least(129), None);
    }
}
