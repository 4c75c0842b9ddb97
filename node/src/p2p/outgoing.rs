//! When a node publishes the transactions it admitted. Every published
//! batch costs each peer a gossipsub signature check and a hand-off to
//! admission, so transactions go out together; but each millisecond a
//! transaction waits here is a millisecond more before another validator's
//! proposal can carry it.
//!
//! So a batch goes once no transaction came for [`QUIET_MS`] (a client's
//! batch is admitted one transaction at a time, microseconds apart), or once
//! its first has waited [`GAP_MS`] under a steady stream; and never sooner
//! than `GAP_MS` after the batch before, so a node publishes at most
//! `1000 / GAP_MS` batches a second that are not full, whatever its load. A
//! full batch goes at once. Under a steady stream that is one batch every
//! `GAP_MS`, as when batches went on a fixed tick of that period; at a light
//! load a transaction waits about `QUIET_MS`, not for the tick (up to 20 ms).

use super::gossip::{BATCH_BYTES_MAX, BATCH_TXS_MAX};
use std::time::{Duration, Instant};

/// How long no transaction came before a batch goes.
pub const QUIET_MS: u64 = 1;
/// The most a batch's first transaction waits under a steady stream, and
/// the least time between two published batches but for a full one.
pub const GAP_MS: u64 = 20;

/// Admitted transactions waiting to be published.
#[derive(Default)]
pub struct Outgoing {
    txs: Vec<Vec<u8>>,
    bytes: usize,
    /// When the first and the last transaction waiting came.
    first_at: Option<Instant>,
    last_at: Option<Instant>,
    /// When the last batch went.
    published_at: Option<Instant>,
}

impl Outgoing {
    /// Adds a transaction that came at `now`; returns the batch to publish
    /// at once when it would not fit (the new one starts the next).
    pub fn push(&mut self, tx: Vec<u8>, now: Instant) -> Option<Vec<Vec<u8>>> {
        let full = self.txs.len() + 1 > BATCH_TXS_MAX || self.bytes + tx.len() > BATCH_BYTES_MAX;
        let ready = if full { self.take(now) } else { None };
        self.bytes += tx.len();
        self.txs.push(tx);
        self.first_at.get_or_insert(now);
        self.last_at = Some(now);
        ready
    }

    /// When the transactions waiting are due: [`QUIET_MS`] after the last
    /// came or [`GAP_MS`] after the first, whichever is sooner, and no sooner
    /// than `GAP_MS` after the last batch went. None when none wait.
    pub fn due(&self) -> Option<Instant> {
        let (first_at, last_at) = (self.first_at?, self.last_at?);
        let quiet = last_at + Duration::from_millis(QUIET_MS);
        let waited = first_at + Duration::from_millis(GAP_MS);
        let ready = quiet.min(waited);
        let gap = (self.published_at).map(|at| at + Duration::from_millis(GAP_MS));
        Some(gap.map_or(ready, |gap| gap.max(ready)))
    }

    /// The batch, if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<Vec<u8>>> {
        match self.due() {
            Some(due) if due <= now => self.take(now),
            _ => None,
        }
    }

    fn take(&mut self, now: Instant) -> Option<Vec<Vec<u8>>> {
        if self.txs.is_empty() {
            return None;
        }
        assert!(
            self.first_at.is_some(),
            "a waiting batch has a first arrival"
        );
        self.bytes = 0;
        self.first_at = None;
        self.last_at = None;
        self.published_at = Some(now);
        Some(std::mem::take(&mut self.txs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn nothing_waiting_is_never_due() {
        let mut outgoing = Outgoing::default();
        assert_eq!(outgoing.due(), None);
        assert_eq!(outgoing.take_due(Instant::now() + ms(3_600_000)), None);
    }

    #[test]
    fn a_batch_goes_once_no_transaction_came_for_the_quiet_time() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        assert_eq!(outgoing.push(vec![1], t0), None);
        assert_eq!(outgoing.due(), Some(t0 + ms(QUIET_MS)));
        let t1 = t0 + us(300);
        assert_eq!(outgoing.push(vec![2], t1), None);
        assert_eq!(
            outgoing.due(),
            Some(t1 + ms(QUIET_MS)),
            "each arrival waits on"
        );
        assert_eq!(outgoing.take_due(t1 + ms(QUIET_MS) - us(1)), None);
        let went = outgoing.take_due(t1 + ms(QUIET_MS));
        assert_eq!(went, Some(vec![vec![1], vec![2]]));
        assert_eq!(outgoing.due(), None, "what went is not due again");
    }

    #[test]
    fn under_a_steady_stream_the_first_waits_the_gap_at_most() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        for n in 0..(2 * GAP_MS) {
            outgoing.push(vec![n as u8], t0 + us(500 * n));
        }
        assert_eq!(outgoing.due(), Some(t0 + ms(GAP_MS)));
    }

    #[test]
    fn a_batch_after_a_publish_waits_out_the_gap() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        outgoing.push(vec![1], t0);
        let went = t0 + ms(QUIET_MS);
        assert!(outgoing.take_due(went).is_some());
        outgoing.push(vec![2], went + ms(1));
        assert_eq!(outgoing.due(), Some(went + ms(GAP_MS)));
        assert_eq!(outgoing.take_due(went + ms(GAP_MS) - ms(1)), None);
        assert_eq!(outgoing.take_due(went + ms(GAP_MS)), Some(vec![vec![2]]));
        // Long after the gap, a transaction waits only the quiet time again.
        let later = went + ms(10 * GAP_MS);
        outgoing.push(vec![3], later);
        assert_eq!(outgoing.due(), Some(later + ms(QUIET_MS)));
    }

    #[test]
    fn a_full_batch_goes_at_once_and_the_next_waits_the_gap() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        for n in 0..BATCH_TXS_MAX {
            assert_eq!(outgoing.push(vec![n as u8], t0), None);
        }
        let full = outgoing.push(vec![0xff], t0 + ms(1)).expect("a full batch");
        assert_eq!(full.len(), BATCH_TXS_MAX);
        assert_eq!(outgoing.due(), Some(t0 + ms(1) + ms(GAP_MS)));
        let big = vec![0; BATCH_BYTES_MAX];
        let by_bytes = outgoing.push(big, t0 + ms(2)).expect("full by bytes");
        assert_eq!(by_bytes, vec![vec![0xff]]);
    }
}
