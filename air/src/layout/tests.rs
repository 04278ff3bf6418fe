//! Tests of the layout: batch capacities, the widest batch, the verifier-cost bound.

use super::*;
use crate::descriptor::LayerDescriptor;
use alloc::vec;

fn descriptor(shape: &[usize], trace_len: usize) -> ModelDescriptor {
    let layers = shape
        .windows(2)
        .enumerate()
        .map(|(l, w)| LayerDescriptor {
            n_in: w[0],
            n_out: w[1],
            multiplier: (l + 2 < shape.len()).then_some(100),
            bias: vec![0; w[1]],
            groups: 1,
            conv: None,
            patch: None,
            table: None,
        })
        .collect();
    ModelDescriptor {
        trace_len,
        layers,
        input_scale: 1.0,
        output_scale: 1.0,
        input_encoding: crate::encoding::InputEncoding::Symmetric,
    }
}

#[test]
fn extra_lanes_fill_whole_rows_and_the_capacity_is_the_least_such() {
    // block lengths 64 (input), 8, 32 at 1024 rows
    let d = descriptor(&[16, 128, 32, 10], 1024);
    for batch in 1..=96 {
        let Ok(layout) = Layout::new(&d, batch) else {
            panic!("batch {batch} fits");
        };
        let cap = layout.batch_capacity;
        assert!(cap >= batch);
        for r in &layout.regions {
            assert!(r.lanes() >= cap);
            let extra = r.lanes() - cap;
            if r.kind == RegionKind::Input {
                // whole dead rows, then at most part of a row (bound to zero inputs)
                assert_eq!(extra / r.lanes_per_row, r.dead_rows, "batch {batch}");
            } else {
                // the dead lanes are exactly the first `dead_rows` rows of a block
                assert_eq!(extra, r.dead_rows * r.lanes_per_row, "batch {batch}");
            }
            assert!(r.dead_rows < r.block_len);
        }
        // no smaller capacity would do (the input region does not constrain it)
        if cap > batch {
            let fits = |c: usize| [8usize, 32].iter().all(|&b| b >= c || c.is_multiple_of(b));
            assert!((batch..cap).all(|c| !fits(c)), "batch {batch}");
        }
    }
    // one sample takes one lane column everywhere, where all lanes used to be live
    let Ok(one) = Layout::new(&d, 1) else {
        panic!("one sample fits");
    };
    assert!(one.regions.iter().all(|r| r.lanes_per_row == 1));
    assert_eq!(one.regions[1].dead_rows, 7);
    assert_eq!(one.restart_flags, vec![(8, 7), (32, 31), (64, 63)]);
    // a full-width batch has no dead rows, and no restart flags
    let Ok(full) = Layout::new(&d, 64) else {
        panic!("64 samples fit");
    };
    assert!(full.regions.iter().all(|r| r.dead_rows == 0));
    assert!(full.restart_flags.is_empty());
}

#[test]
fn max_batch_is_the_last_batch_that_fits() {
    let d = descriptor(&[64, 128, 64, 10], 1024);
    let max = Layout::max_batch(&d);
    let Ok(widest) = Layout::new(&d, max) else {
        panic!("the largest batch fits");
    };
    assert!(Layout::new(&d, max + 1).is_err());
    // winterfell's proof reader refuses 255 columns
    assert!(widest.main_width + widest.aux.width <= 254);
}

#[test]
fn a_statement_designed_to_stall_the_verifier_is_too_expensive() {
    // one-wide layers force 2^20 lanes; a 16384-wide output makes the output term 2^34 operations
    let Err(err) = Layout::new(&descriptor(&[1, 1, 16384], 1 << 20), 1) else {
        panic!("a stalling layout was accepted");
    };
    assert!(matches!(err, DescriptorError::VerifierCost { .. }), "{err}");
    // the digits MLP is far below the bound
    let Ok(layout) = Layout::new(&descriptor(&[64, 128, 64, 10], 1024), 64) else {
        panic!("the digits MLP has a layout");
    };
    assert!(
        layout.verifier_work() < 1 << 19,
        "{}",
        layout.verifier_work()
    );
}
