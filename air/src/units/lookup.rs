//! The lookup unit: LogUp range checks against the table `0..256`. Each group of values has one
//! helper column `h = Σ 1/(γ − v)`, checked as `h·Π(γ − v) = Σ_v Π_{w≠v}(γ − w)`.

use winter_math::FieldElement;

use crate::field::Felt;
use crate::layout::LookupValue;
use crate::units::requant::activation;

/// `Σ_v 1/(γ − v)` cleared of denominators: returns `(Π(γ − v), Σ_v Π_{w≠v}(γ − w))`.
pub fn fraction_sum<E: FieldElement>(gamma: E, values: impl IntoIterator<Item = E>) -> (E, E) {
    let mut den = E::ONE;
    let mut num = E::ZERO;
    for v in values {
        let d = gamma - v;
        num = num * d + den;
        den *= d;
    }
    (den, num)
}

/// The value a lookup checks, read from one trace row.
pub fn lookup_value<F: FieldElement<BaseField = Felt>>(row: &[F], v: &LookupValue) -> F {
    match *v {
        LookupValue::Cell(c) => row[c],
        LookupValue::Activation(base) => activation(row, base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_sum_clears_denominators() {
        let gamma = Felt::new(1_000_003);
        let values = [Felt::new(3), Felt::new(250), Felt::new(7)];
        let (den, num) = fraction_sum(gamma, values);
        let direct: Felt = values
            .iter()
            .map(|&v| (gamma - v).inv())
            .fold(Felt::ZERO, |a, b| a + b);
        assert_eq!(num / den, direct);
        assert_eq!(fraction_sum(gamma, []), (Felt::ONE, Felt::ZERO));
    }

    #[test]
    fn cells_are_looked_up_as_they_are() {
        let row = [Felt::new(3), Felt::new(127)];
        assert_eq!(lookup_value(&row, &LookupValue::Cell(1)), Felt::new(127));
    }
}
