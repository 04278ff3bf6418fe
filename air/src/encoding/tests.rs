//! Codes, validation and the digest form of every input encoding.

use super::*;
use alloc::vec;

#[test]
fn rounds_half_away_from_zero_and_saturates() {
    assert_eq!(encode_symmetric(0.5, 1.0), Some(1));
    assert_eq!(encode_symmetric(-0.5, 1.0), Some(-1));
    assert_eq!(encode_symmetric(0.49, 1.0), Some(0));
    assert_eq!(encode_symmetric(1.0, 1.0 / 127.0), Some(127));
    assert_eq!(encode_symmetric(-2.0, 1.0 / 127.0), Some(-128));
    assert_eq!(encode_symmetric(f32::NAN, 1.0), None);
    assert_eq!(encode_symmetric(1.0, 0.0), None);
    for x in [-1.3f32, -0.25, 0.0, 0.1, 0.75, 2.5] {
        let q = (f64::from(x) / 0.01).round().clamp(-128.0, 127.0) as i64;
        assert_eq!(encode_symmetric(x, 0.01), Some(q), "{x}");
    }
}

#[test]
fn affine_and_threshold_codes() {
    let affine = InputEncoding::Affine {
        offset: vec![1.0, -2.0],
        step: vec![0.5, 4.0],
    };
    assert_eq!(affine.validate(2), Ok(()));
    assert_eq!(affine.encode(&[2.25, 1000.0], 1.0), Ok(vec![3, 127]));
    assert_eq!(affine.encode(&[-1000.0, -4.0], 1.0), Ok(vec![-127, -1]));
    assert_eq!(
        affine.encode(&[1.0], 1.0),
        Err(EncodeError::Length {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        affine.encode(&[1.0, f32::INFINITY], 1.0),
        Err(EncodeError::NotFinite { feature: 1 })
    );
    let cuts = InputEncoding::Thresholds {
        cuts: vec![vec![-1.5, 0.0, 2.25]],
    };
    let codes: Vec<i64> = [-9.0f32, -1.5, -1.0, 0.0, 1.0, 2.25, 3.0]
        .iter()
        .map(|&x| cuts.encode(&[x], 1.0).map(|q| q[0] + 128))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    assert_eq!(codes, vec![0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn malformed_encodings_are_refused() {
    let unsorted = InputEncoding::Thresholds {
        cuts: vec![vec![1.0, 1.0]],
    };
    assert!(unsorted.validate(1).is_err());
    let too_many = InputEncoding::Thresholds {
        cuts: vec![(0..128).map(|i| i as f32).collect()],
    };
    assert!(too_many.validate(1).is_err());
    let zero_step = InputEncoding::Affine {
        offset: vec![0.0],
        step: vec![0.0],
    };
    assert!(zero_step.validate(1).is_err());
    assert!(InputEncoding::Symmetric.validate(3).is_ok());
}

#[test]
fn every_field_reaches_the_elements() {
    let base = InputEncoding::Affine {
        offset: vec![1.0, 2.0],
        step: vec![0.5, 0.25],
    };
    let elements = |e: &InputEncoding| {
        let mut out = Vec::new();
        e.to_elements(&mut out);
        out
    };
    let mut changed = base.clone();
    if let InputEncoding::Affine { step, .. } = &mut changed {
        step[1] = 0.2500001;
    }
    assert_ne!(elements(&base), elements(&changed));
    let a = InputEncoding::Thresholds {
        cuts: vec![vec![1.0], vec![]],
    };
    let b = InputEncoding::Thresholds {
        cuts: vec![vec![], vec![1.0]],
    };
    assert_ne!(elements(&a), elements(&b));
}

/// An edit of a projected encoding's map and cuts.
type Edit<'a> = &'a dyn Fn(&mut Projection, &mut Vec<Vec<f32>>);

fn projected() -> InputEncoding {
    // z0 = x0 − x1, z1 = 0.5·x2 + 1, over three raw features
    InputEncoding::Projected {
        map: Projection {
            inputs: 3,
            matrix: vec![1.0, -1.0, 0.0, 0.0, 0.0, 0.5],
            offset: vec![0.0, 1.0],
        },
        cuts: vec![vec![0.0], vec![-1.0, 2.0]],
    }
}

#[test]
fn projected_codes_are_thresholds_of_the_map() {
    let e = projected();
    assert_eq!(e.validate(2), Ok(()));
    assert_eq!(e.raw_len(), Some(3));
    assert_eq!(e.tag(), 3);
    // z = [0, 2]: on the cut of feature 0, on the second cut of feature 1
    assert_eq!(e.encode(&[1.0, 1.0, 2.0], 1.0), Ok(vec![-127, -125]));
    // z = [−1, −0.5]
    assert_eq!(e.encode(&[0.0, 1.0, -3.0], 1.0), Ok(vec![-128, -126]));
    assert_eq!(
        e.encode(&[1.0, 1.0], 1.0),
        Err(EncodeError::Length {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(
        e.encode(&[1.0, 1.0, f32::NAN], 1.0),
        Err(EncodeError::NotFinite { feature: 2 })
    );
}

#[test]
fn malformed_projections_are_refused() {
    let with = |edit: Edit<'_>| {
        let InputEncoding::Projected { mut map, mut cuts } = projected() else {
            unreachable!()
        };
        edit(&mut map, &mut cuts);
        InputEncoding::Projected { map, cuts }.validate(2)
    };
    assert_eq!(with(&|_, _| {}), Ok(()));
    // one encoded feature too many or too few
    assert!(projected().validate(3).is_err());
    assert!(with(&|_, c| c.push(vec![])).is_err());
    assert!(with(&|m, _| m.inputs = 2).is_err());
    assert!(with(&|m, _| m.matrix[4] = f64::NAN).is_err());
    assert!(with(&|m, _| m.offset[0] = -1e30).is_err());
    assert!(with(&|_, c| c[1] = vec![2.0, -1.0]).is_err());
    assert!(with(&|_, c| c[0] = vec![f32::INFINITY]).is_err());
    assert!(with(&|_, c| c[0] = (0..128).map(|i| i as f32).collect()).is_err());
}

#[test]
fn every_part_of_a_projection_reaches_the_elements_and_bytes() {
    let base = projected();
    let (mut elements, mut bytes) = (Vec::new(), Vec::new());
    base.to_elements(&mut elements);
    base.write(&mut bytes);
    let edits: [Edit<'_>; 4] = [
        &|m, _| m.matrix[5] = 0.25,
        &|m, _| m.offset[1] = 1.5,
        &|_, c| c[1][0] = -1.5,
        &|_, c| c.swap(0, 1),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let InputEncoding::Projected { mut map, mut cuts } = projected() else {
            unreachable!()
        };
        edit(&mut map, &mut cuts);
        let other = InputEncoding::Projected { map, cuts };
        let (mut e, mut b) = (Vec::new(), Vec::new());
        other.to_elements(&mut e);
        other.write(&mut b);
        assert_ne!(e, elements, "edit {i}");
        assert_ne!(b, bytes, "edit {i}");
    }
    // a projection never hashes like the threshold lists it carries
    let mut plain = Vec::new();
    InputEncoding::Thresholds {
        cuts: vec![vec![0.0], vec![-1.0, 2.0]],
    }
    .to_elements(&mut plain);
    assert_ne!(plain, elements);
}

#[test]
fn boxed_images_land_at_the_top_left_of_zeroed_boxes() {
    let enc = InputEncoding::Boxed {
        height: 2,
        width: 3,
        box_h: 4,
        box_w: 4,
    };
    // two channels of 2×3 pixels into two 4×4 boxes
    assert_eq!(enc.validate(32), Ok(()));
    assert_eq!(enc.raw_len_for(32), 12);
    let x: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let Ok(q) = enc.encode(&x, 1.0) else {
        panic!("a sample that fits encodes");
    };
    assert_eq!(q.len(), 32);
    assert_eq!(&q[..8], &[1, 2, 3, 0, 4, 5, 6, 0]);
    assert!(q[8..16].iter().all(|&v| v == 0));
    assert_eq!(&q[16..20], &[7, 8, 9, 0]);
    assert!(enc.encode(&x[..11], 1.0).is_err());
    // an image wider than its box, or boxes that do not tile the inputs, are malformed
    let wide = InputEncoding::Boxed {
        height: 2,
        width: 5,
        box_h: 4,
        box_w: 4,
    };
    assert!(wide.validate(32).is_err());
    assert!(enc.validate(24).is_err());
    // the box is committed
    let (mut a, mut b) = (Vec::new(), Vec::new());
    enc.to_elements(&mut a);
    InputEncoding::Boxed {
        height: 2,
        width: 3,
        box_h: 4,
        box_w: 8,
    }
    .to_elements(&mut b);
    assert_ne!(a, b);
}

#[test]
fn a_normalized_encoding_codes_the_normalized_sample_and_wraps_one_flat_encoding() {
    let inner = InputEncoding::Affine {
        offset: alloc::vec![0.0, 0.0],
        step: alloc::vec![0.01, 0.01],
    };
    let enc = InputEncoding::Normalized {
        norm: Norm::L2,
        inner: alloc::boxed::Box::new(inner.clone()),
    };
    assert_eq!(enc.validate(2), Ok(()));
    assert_eq!(enc.raw_len(), Some(2));
    // [3, 4] and [6, 8] normalize alike: [0.6, 0.8]
    assert_eq!(enc.encode(&[3.0, 4.0], 1.0), Ok(alloc::vec![60, 80]));
    assert_eq!(enc.encode(&[6.0, 8.0], 1.0), enc.encode(&[3.0, 4.0], 1.0));
    assert_eq!(
        enc.encode(&[3.0, f32::NAN], 1.0),
        Err(EncodeError::NotFinite { feature: 1 })
    );
    let nested = InputEncoding::Normalized {
        norm: Norm::L1,
        inner: alloc::boxed::Box::new(enc.clone()),
    };
    assert!(nested.validate(2).is_err());
    // the digest elements and the proof-file form carry the norm
    let (mut a, mut b) = (alloc::vec::Vec::new(), alloc::vec::Vec::new());
    enc.to_elements(&mut a);
    InputEncoding::Normalized {
        norm: Norm::L1,
        inner: alloc::boxed::Box::new(inner),
    }
    .to_elements(&mut b);
    assert_ne!(a, b);
}
