//! Windows FILETIME (100 ns ticks since 1601-01-01T00:00:00Z), as in AD `accountExpires`.

use super::{DateTime, TICKS_PER_DAY};

/// Ticks of 1601-01-01T00:00:00Z since 0001-01-01.
pub const FILETIME_EPOCH_TICKS: i64 = 584_388 * TICKS_PER_DAY;

/// The largest FILETIME a DateTime can hold (9999-12-31T23:59:59.9999999Z).
pub const MAX_FILETIME: i64 = DateTime::MAX.ticks() - FILETIME_EPOCH_TICKS;

/// DateFromNum: the instant of a FILETIME, `None` outside 0..=[`MAX_FILETIME`] (which
/// includes AD's "never" value `i64::MAX`).
pub fn from_filetime(ft: i64) -> Option<DateTime> {
    if (0..=MAX_FILETIME).contains(&ft) {
        DateTime::from_ticks(ft + FILETIME_EPOCH_TICKS)
    } else {
        None
    }
}

/// NumFromDate: the FILETIME of an instant, `None` before 1601.
pub fn to_filetime(d: DateTime) -> Option<i64> {
    let ft = d.ticks() - FILETIME_EPOCH_TICKS;
    (ft >= 0).then_some(ft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_edges() {
        assert_eq!(FILETIME_EPOCH_TICKS, 504_911_232_000_000_000);
        assert_eq!(MAX_FILETIME, 2_650_467_743_999_999_999);
        assert_eq!(
            from_filetime(0).map(|d| d.to_string()),
            Some("1/1/1601 12:00:00 AM".to_owned())
        );
        assert_eq!(
            from_filetime(129_699_324_000_000_000).map(|d| d.to_string()),
            Some("1/1/2012 11:00:00 PM".to_owned())
        );
        assert_eq!(from_filetime(MAX_FILETIME), Some(DateTime::MAX));
        assert_eq!(from_filetime(MAX_FILETIME + 1), None);
        assert_eq!(from_filetime(-1), None);
        assert_eq!(from_filetime(i64::MAX), None);
        assert_eq!(to_filetime(DateTime::MIN), None);
        assert_eq!(from_filetime(0).and_then(to_filetime), Some(0));
    }

    proptest::proptest! {
        #[test]
        fn round_trip(ft in 0..=MAX_FILETIME) {
            proptest::prop_assert_eq!(from_filetime(ft).and_then(to_filetime), Some(ft));
        }
    }
}
