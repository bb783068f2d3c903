//! The planning data: facilities (supply), residences (demand) and communities (the units a plan
//! reports on), each with a checked constructor.
//!
//! Values read from files carry the index of their feature, for messages; values built in code
//! have none ([`Facility::feature_index`] is `None`).

mod community;
mod facility;
mod id;
mod planned;
mod residence;

pub(crate) use self::community::representative_point;
pub use self::{
    community::Community, facility::Facility, id::Id, planned::PlannedFacility,
    residence::Residence,
};

/// The index recorded for a value that was not read from a file.
pub(crate) const NOT_FROM_FILE: u32 = u32::MAX;

/// The feature index of a value, if it came from a file.
fn feature_index(index: u32) -> Option<usize> {
    (index != NOT_FROM_FILE).then_some(index as usize)
}

/// A population or capacity: a finite number of 0 or more.
fn check_count(what: &'static str, value: f64) -> Result<f64, crate::InvalidValue> {
    if value.is_finite() && (0.0..=MAX_COUNT).contains(&value) {
        Ok(value)
    } else if value > MAX_COUNT {
        Err(crate::InvalidValue::new(
            what,
            value,
            "is implausible for one place: more than 100,000,000",
        ))
    } else {
        Err(crate::InvalidValue::new(
            what,
            value,
            "must be a finite number of 0 or more",
        ))
    }
}

/// The largest population, group count or capacity one place may have (100 million, more than
/// any city): a larger value is a mistake (a misplaced exponent, a wrong column), and summing
/// such values would overflow.
pub const MAX_COUNT: f64 = 1e8;

/// The six standard functions of the "1+6+X" neighbourhood centre, in the order plans list them.
pub const SIX_FUNCTIONS: [&str; 6] = [
    "elderly_care",
    "childcare",
    "medical",
    "meals",
    "culture_sports",
    "admin_services",
];

#[cfg(test)]
mod size {
    /// Ten million residences: every byte of an id counts.
    #[test]
    fn an_id_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<super::Id>(), 24);
    }

    #[test]
    fn a_residence_takes_80_bytes() {
        assert_eq!(std::mem::size_of::<super::Residence>(), 80);
    }
}
