//! The wall clock, in one place: block proposals read it, and validators compare a
//! proposal's time with it (BFT time must stay near real time).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> u64 {
    // A clock before 1970 is a broken machine; block time then comes from the tip.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Today's date (UTC) as (year, month, day), from [`now_ms`].
pub fn today() -> (u32, u32, u32) {
    civil_date(now_ms() / 86_400_000)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm).
pub fn civil_date(days: u64) -> (u32, u32, u32) {
    let (year, month, day) = tamga_verify::time::civil_from_days(days as i64);
    (year as u32, month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_date(0), (1970, 1, 1));
        assert_eq!(super::civil_date(19_723), (2024, 1, 1));
        assert_eq!(super::civil_date(19_782), (2024, 2, 29));
    }
}
