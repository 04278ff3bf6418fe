//! The AIR's periodic polynomials, built in closed form (glassbox-air's `periodic` module), are
//! winterfell's interpolations of its periodic columns, in the same order, for fixture layouts
//! with every kind of periodic column: block ends of many lengths, region restarts, and the
//! upper-half flags of linear patch layers over cycles as long as the trace.

mod common;

use glassbox_air::{trace_info, InferenceAir, SecurityLevel};
use glassbox_trace::Program;
use winterfell::math::fft;
use winterfell::Air;

#[test]
fn periodic_polynomials_interpolate_the_periodic_columns() {
    let mut full_cycles = 0;
    for (name, batch) in [
        ("rgb_cnn32", 1),
        ("lenet5_digits28", 64),
        ("resnet_digits28", 1),
    ] {
        let mut q = common::compile_fixture(name);
        q.proof_batch = Some(batch);
        let program = Program::compile(&q).unwrap();
        let xs = common::fixture_inputs(&q, name, batch as usize);
        let trace = program.trace(&xs).unwrap();
        let layout = &trace.layout;
        let air = InferenceAir::new(
            trace_info(layout),
            trace.public.clone(),
            SecurityLevel::Bits100.options(),
        );
        let values = air.get_periodic_column_values();
        let polys = air.get_periodic_column_polys();
        assert_eq!(values.len(), polys.len(), "{name}");
        assert!(
            !layout.half_flags.is_empty(),
            "{name} has linear patch layers"
        );
        for (column, poly) in values.iter().zip(&polys) {
            let mut want = column.clone();
            fft::interpolate_poly(&mut want, &fft::get_inv_twiddles(column.len()));
            assert_eq!(poly, &want, "{name}: a cycle of {}", column.len());
            full_cycles += usize::from(column.len() == layout.trace_len);
        }
    }
    assert!(full_cycles > 0);
}
