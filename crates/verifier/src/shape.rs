//! The parts of a STARK's header the verifier pins, in a form its errors can report.

use core::fmt;

use winter_verifier::{ProofOptions, TraceInfo};

/// The proof options that matter to soundness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StarkOptions {
    /// FRI queries.
    pub queries: usize,
    /// Low-degree extension blowup.
    pub blowup: usize,
    /// Grinding bits.
    pub grinding: u32,
    /// Degree of the field extension (1, 2 or 3).
    pub extension: u32,
    /// FRI folding factor.
    pub folding: usize,
    /// Largest FRI remainder degree.
    pub remainder_degree: usize,
}

impl From<&ProofOptions> for StarkOptions {
    fn from(o: &ProofOptions) -> Self {
        let fri = o.to_fri_options();
        Self {
            queries: o.num_queries(),
            blowup: o.blowup_factor(),
            grinding: o.grinding_factor(),
            extension: o.field_extension().degree(),
            folding: fri.folding_factor(),
            remainder_degree: fri.remainder_max_degree(),
        }
    }
}

impl fmt::Display for StarkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} queries, blowup {}, {} grinding bits, extension degree {}, folding {}, remainder degree {}",
            self.queries, self.blowup, self.grinding, self.extension, self.folding, self.remainder_degree
        )
    }
}

/// A trace's dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceDims {
    /// Main-segment columns.
    pub main_width: usize,
    /// Auxiliary-segment columns.
    pub aux_width: usize,
    /// Random elements drawn for the auxiliary segment.
    pub aux_rands: usize,
    /// Rows.
    pub length: usize,
}

impl From<&TraceInfo> for TraceDims {
    fn from(t: &TraceInfo) -> Self {
        Self {
            main_width: t.main_trace_width(),
            aux_width: t.aux_segment_width(),
            aux_rands: t.get_num_aux_segment_rand_elements(),
            length: t.length(),
        }
    }
}

impl fmt::Display for TraceDims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows × {} main + {} auxiliary columns ({} random elements)",
            self.length, self.main_width, self.aux_width, self.aux_rands
        )
    }
}
