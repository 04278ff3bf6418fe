//! The nodes of a chain: every node reads the value before it (and constants), but for the
//! `Add` that closes an identity skip, which also reads one earlier value, so the patch path can
//! walk them by index.

use crate::error::Result;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::smooth::scalar::ScalarFn;

/// The nodes of `graph` up to its logits, if each reads exactly the previous value (an `Add`
/// also one earlier value: a skip).
pub(super) struct Chain<'a> {
    graph: &'a Graph,
    nodes: &'a [Node],
}

impl<'a> Chain<'a> {
    /// The chain of `graph`, or `None` if some node reads another value than the one before it
    /// (a branch), but for an `Add` of the previous value and one earlier value (a skip), and
    /// no value is the source of two skips.
    pub fn new(graph: &'a Graph) -> Option<Self> {
        let nodes = &graph.nodes[..graph.logits.min(graph.nodes.len())];
        // value k is node k − 1's output
        let chained = nodes.iter().enumerate().all(|(k, n)| {
            let values = values(n);
            values == [k]
                || (matches!(n.op, Op::Add)
                    && n.inputs.len() == 2
                    && matches!(values.as_slice(), [a, b] if (*a == k && *b < k) || (*b == k && *a < k)))
        });
        let chain = Self { graph, nodes };
        let single = (0..nodes.len()).all(|v| chain.readers(v) <= 1);
        (chained && single).then_some(chain)
    }

    /// The `Add` node that closes a skip from value `v` (the input of node `v`), if any.
    pub fn skip_from(&self, v: usize) -> Option<usize> {
        (v + 1..self.nodes.len()).find(|&a| self.skip_source(a) == Some(v))
    }

    /// The earlier value `Add` node `a` reads beside value `a` (the skip's source).
    fn skip_source(&self, a: usize) -> Option<usize> {
        let n = self.nodes.get(a)?;
        values(n)
            .into_iter()
            .find(|&v| v != a && matches!(n.op, Op::Add))
    }

    /// Number of skips that start at value `v`.
    fn readers(&self, v: usize) -> usize {
        (0..self.nodes.len())
            .filter(|&a| self.skip_source(a) == Some(v))
            .count()
    }

    /// Node `k`.
    pub fn node(&self, k: usize) -> Option<&'a Node> {
        self.nodes.get(k)
    }

    /// The op of node `k`.
    pub fn op(&self, k: usize) -> Option<&'a Op> {
        self.nodes.get(k).map(|n| &n.op)
    }

    /// The smooth activation starting at node `k` (reading value `k`, node `k − 1`'s output)
    /// and the index of the first node after it, if node `k` begins one before the logits.
    ///
    /// # Errors
    /// A non-scalar constant inside the run.
    pub fn smooth(&self, k: usize) -> Result<Option<(ScalarFn, usize)>> {
        if k >= self.nodes.len() {
            return Ok(None);
        }
        let found = ScalarFn::region(self.graph, k, k)?;
        Ok(found.filter(|&(_, end)| end < self.nodes.len()))
    }

    /// The constants node `k` reads, in operand order.
    pub fn consts(&self, k: usize) -> Vec<&'a Tensor> {
        self.nodes.get(k).map_or_else(Vec::new, |n| {
            n.inputs
                .iter()
                .filter_map(|o| match o {
                    Operand::Const(c) => self.graph.constants.get(*c),
                    Operand::Value(_) => None,
                })
                .collect()
        })
    }
}

/// The values node `n` reads, in operand order.
fn values(n: &Node) -> Vec<usize> {
    n.inputs
        .iter()
        .filter_map(|o| match o {
            Operand::Value(v) => Some(*v),
            Operand::Const(_) => None,
        })
        .collect()
}
