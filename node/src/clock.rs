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
