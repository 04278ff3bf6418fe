//! The nodes of a plain chain: every node reads the value before it (and constants), so the
//! patch path can walk them by index.

use crate::error::Result;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::smooth::scalar::ScalarFn;

/// The nodes of `graph` up to its logits, if each reads exactly the previous value.
pub(super) struct Chain<'a> {
    graph: &'a Graph,
    nodes: &'a [Node],
}

impl<'a> Chain<'a> {
    /// The chain of `graph`, or `None` if some node reads another value than the one before it
    /// (a skip or a branch).
    pub fn new(graph: &'a Graph) -> Option<Self> {
        let nodes = &graph.nodes[..graph.logits.min(graph.nodes.len())];
        // value k is node k − 1's output
        let chained = nodes.iter().enumerate().all(|(k, n)| {
            let values: Vec<usize> = n
                .inputs
                .iter()
                .filter_map(|o| match o {
                    Operand::Value(v) => Some(*v),
                    Operand::Const(_) => None,
                })
                .collect();
            values == [k]
        });
        chained.then_some(Self { graph, nodes })
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
