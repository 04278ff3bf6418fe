//! `TreeEnsembleClassifier` / `TreeEnsembleRegressor` → [`TreeEnsemble`]: the node arrays, leaf
//! weights and class labels of the ONNX-ML encoding, checked and regrouped per tree.

use std::collections::HashMap;

use crate::error::{ModelError, Result};
use crate::import::attrs::{get_floats, get_int, get_ints, get_string, get_strings};
use crate::import::ml_attrs::{class_labels, index, ml_invalid, ml_unsupported, post_transform};
use crate::import::onnx::NodeProto;
use crate::ir::scores::MAX_TARGETS;
use crate::ir::tree::{
    Aggregate, BranchMode, Tree, TreeEnsemble, TreeNode, MAX_LEAF_VALUES, MAX_TREE_NODES,
};

pub(crate) fn import_trees(
    n: &NodeProto,
    node: &str,
    op: &str,
    n_features: usize,
) -> Result<TreeEnsemble> {
    let classifier = n.op_type == "TreeEnsembleClassifier";
    let tree_ids = get_ints(n, "nodes_treeids", node)?;
    let count = tree_ids.len();
    if count > MAX_TREE_NODES {
        return Err(ModelError::TooLarge {
            what: "tree nodes",
            limit: MAX_TREE_NODES as u64,
            got: count as u64,
        });
    }
    let node_ids = get_ints(n, "nodes_nodeids", node)?;
    let features = get_ints(n, "nodes_featureids", node)?;
    let modes = get_strings(n, "nodes_modes", node)?;
    let true_ids = get_ints(n, "nodes_truenodeids", node)?;
    let false_ids = get_ints(n, "nodes_falsenodeids", node)?;
    let values = get_floats(n, "nodes_values", node)?;
    let missing = get_ints(n, "nodes_missing_value_tracks_true", node)?;
    let lens = [
        ("nodes_nodeids", node_ids.len()),
        ("nodes_featureids", features.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", true_ids.len()),
        ("nodes_falsenodeids", false_ids.len()),
        ("nodes_values", values.len()),
    ];
    for (what, len) in lens {
        if len != count {
            return Err(ml_invalid(
                op,
                node,
                format!("`{what}` has {len} entries, `nodes_treeids` has {count}"),
            ));
        }
    }
    if !missing.is_empty() && missing.len() != count {
        return Err(ml_invalid(
            op,
            node,
            "`nodes_missing_value_tracks_true` has the wrong length",
        ));
    }
    // `nodes_missing_value_tracks_true` only routes NaN inputs (LightGBM sets it). Every input
    // path refuses non-finite features, so for the inputs glassbox accepts it changes nothing.
    if count == 0 {
        return Err(ml_invalid(op, node, "no tree nodes"));
    }

    // Trees are contiguous runs of `nodes_treeids`; the first node of a run is its root (as in
    // onnxruntime). (tree id, node id) → (tree index, local index).
    let mut position: HashMap<(i64, i64), (usize, usize)> = HashMap::with_capacity(count);
    let mut run_of: HashMap<i64, usize> = HashMap::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut prev: Option<i64> = None;
    for (k, (&t, &id)) in tree_ids.iter().zip(node_ids).enumerate() {
        if prev != Some(t) {
            if run_of.insert(t, sizes.len()).is_some() {
                return Err(ml_unsupported(
                    op,
                    node,
                    format!("the nodes of tree {t} are not contiguous"),
                ));
            }
            sizes.push(0);
            prev = Some(t);
        }
        let ti = sizes.len() - 1;
        let local = sizes.get(ti).copied().unwrap_or(0);
        if let Some(sz) = sizes.get_mut(ti) {
            *sz += 1;
        }
        if position.insert((t, id), (ti, local)).is_some() {
            return Err(ml_invalid(
                op,
                node,
                format!("node {id} of tree {t} defined twice (entry {k})"),
            ));
        }
    }
    let mut trees: Vec<Tree> = sizes
        .iter()
        .map(|&s| Tree {
            nodes: Vec::with_capacity(s),
        })
        .collect();
    for k in 0..count {
        let (t, mode, f, tid, fid, v) = match (
            tree_ids.get(k),
            modes.get(k),
            features.get(k),
            true_ids.get(k),
            false_ids.get(k),
            values.get(k),
        ) {
            (Some(&t), Some(m), Some(&f), Some(&ti), Some(&fi), Some(&v)) => (t, m, f, ti, fi, v),
            _ => return Err(ml_invalid(op, node, "node attribute lists too short")),
        };
        let ti = run_of.get(&t).copied().unwrap_or(0);
        let tree_node = if mode.as_slice() == b"LEAF" {
            TreeNode::Leaf { values: Vec::new() }
        } else {
            let mode = BranchMode::from_onnx(mode).ok_or_else(|| {
                ml_unsupported(
                    op,
                    node,
                    format!("node mode `{}`", String::from_utf8_lossy(mode)),
                )
            })?;
            let child = |id: i64, which: &str| {
                position
                    .get(&(t, id))
                    .map(|&(_, local)| local)
                    .ok_or_else(|| {
                        ml_invalid(
                            op,
                            node,
                            format!("{which} node {id} of tree {t} does not exist"),
                        )
                    })
            };
            TreeNode::Branch {
                feature: index(f, n_features, "feature id", op, node)?,
                mode,
                threshold: v,
                true_child: child(tid, "true")?,
                false_child: child(fid, "false")?,
            }
        };
        if let Some(tree) = trees.get_mut(ti) {
            tree.nodes.push(tree_node);
        }
    }

    let (n_targets, classes, prefix) = if classifier {
        let labels = class_labels(n, ["classlabels_int64s", "classlabels_strings"], op, node)?;
        if labels.len() < 2 {
            return Err(ml_invalid(
                op,
                node,
                "a classifier needs at least 2 class labels",
            ));
        }
        (labels.len(), Some(labels), "class")
    } else {
        let t = get_int(n, "n_targets", 1, node)?;
        let t = usize::try_from(t)
            .ok()
            .filter(|&t| (1..=MAX_TARGETS).contains(&t))
            .ok_or_else(|| {
                ml_invalid(op, node, format!("n_targets {t} not in 1..={MAX_TARGETS}"))
            })?;
        (t, None, "target")
    };
    let ids = get_ints(n, &format!("{prefix}_ids"), node)?;
    let leaf_nodes = get_ints(n, &format!("{prefix}_nodeids"), node)?;
    let leaf_trees = get_ints(n, &format!("{prefix}_treeids"), node)?;
    let weights = get_floats(n, &format!("{prefix}_weights"), node)?;
    if ids.len() > MAX_LEAF_VALUES {
        return Err(ModelError::TooLarge {
            what: "leaf values",
            limit: MAX_LEAF_VALUES as u64,
            got: ids.len() as u64,
        });
    }
    if [leaf_nodes.len(), leaf_trees.len(), weights.len()] != [ids.len(); 3] {
        return Err(ml_invalid(
            op,
            node,
            format!("`{prefix}_ids`, `{prefix}_nodeids`, `{prefix}_treeids` and `{prefix}_weights` differ in length"),
        ));
    }
    for k in 0..ids.len() {
        let (Some(&c), Some(&id), Some(&t), Some(&w)) = (
            ids.get(k),
            leaf_nodes.get(k),
            leaf_trees.get(k),
            weights.get(k),
        ) else {
            return Err(ml_invalid(op, node, "leaf attribute lists too short"));
        };
        let col = index(c, n_targets, &format!("{prefix} id"), op, node)?;
        let &(ti, local) = position.get(&(t, id)).ok_or_else(|| {
            ml_invalid(
                op,
                node,
                format!("weight for missing node {id} of tree {t}"),
            )
        })?;
        // onnxruntime ignores weights attached to branch nodes.
        if let Some(TreeNode::Leaf { values }) =
            trees.get_mut(ti).and_then(|tr| tr.nodes.get_mut(local))
        {
            values.push((col, w));
        }
    }

    let base = get_floats(n, "base_values", node)?;
    let base_values = match (base.len(), classes.is_some(), n_targets) {
        (0, ..) => vec![0.0; n_targets],
        (len, _, nt) if len == nt && !(classifier && nt == 2) => base.to_vec(),
        // onnxruntime adds a single base value to column 0 of a two-class classifier.
        (1, true, 2) => vec![base.first().copied().unwrap_or(0.0), 0.0],
        (len, ..) => {
            return Err(ml_unsupported(
                op,
                node,
                format!("{len} base values for {n_targets} score columns (onnxruntime's semantics for this are irregular)"),
            ))
        }
    };
    // With explicit base values onnxruntime counts every class as scored (for the label); the IR
    // counts a class as scored if it has a vote or a non-zero base value, so give zero-base classes
    // a zero vote in every leaf of the first tree.
    if classifier && n_targets > 2 && !base.is_empty() {
        let zero_cols: Vec<usize> = (0..n_targets)
            .filter(|&k| base_values.get(k) == Some(&0.0))
            .collect();
        if let Some(tree) = trees.first_mut() {
            let mut added = 0usize;
            for nd in &mut tree.nodes {
                if let TreeNode::Leaf { values } = nd {
                    for &k in &zero_cols {
                        if !values.iter().any(|&(c, _)| c == k) {
                            values.push((k, 0.0));
                            added += 1;
                        }
                    }
                }
            }
            if added.saturating_add(ids.len()) > MAX_LEAF_VALUES {
                return Err(ModelError::TooLarge {
                    what: "leaf values",
                    limit: MAX_LEAF_VALUES as u64,
                    got: (added.saturating_add(ids.len())) as u64,
                });
            }
        }
    }
    let aggregate = if classifier {
        Aggregate::Sum
    } else {
        match get_string(n, "aggregate_function", b"SUM", node)? {
            b"SUM" => Aggregate::Sum,
            b"AVERAGE" => Aggregate::Average,
            other => {
                return Err(ml_unsupported(
                    op,
                    node,
                    format!("aggregate_function `{}`", String::from_utf8_lossy(other)),
                ))
            }
        }
    };
    let ensemble = TreeEnsemble {
        n_features,
        n_targets,
        trees,
        base_values,
        aggregate,
        post_transform: post_transform(n, op, node)?,
        classes,
    };
    ensemble.validate().map_err(|e| ml_invalid(op, node, e))?;
    Ok(ensemble)
}
