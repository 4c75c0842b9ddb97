//! When a node publishes the transactions it admitted. Every published
//! batch costs each peer a gossipsub signature check and a hand-off to
//! admission, so transactions go out together; but each millisecond a
//! transaction waits here is a millisecond more before another validator's
//! proposal can carry it.
//!
//! So a batch goes once no transaction came for [`QUIET_MS`] (a client's
//! batch is admitted one transaction at a time, microseconds apart), or once
//! its first has waited [`GAP_MS`] under a steady stream; and never sooner
//! than `GAP_MS` after the last batch that went for those reasons, so a node
//! publishes at most `1000 / GAP_MS` batches a second that are not full,
//! whatever its load. A full batch ([`BATCH_TXS_MAX`] transactions, or one
//! that could not take the next transaction's bytes) goes at once and does
//! not count: its size bounds how often it can go. So a client's burst of
//! 1,000 goes as a full batch and, once admission pauses, the rest.
//!
//! What a transaction waits: about `QUIET_MS` (tokio's timers round up to
//! the millisecond: 1–2 ms) after admission pauses, if no batch that was not
//! full went in the last `GAP_MS`, as when bursts come further apart than
//! that; under a smoother stream, up to `GAP_MS` (and the rounding), one
//! batch every `GAP_MS`, as when batches went on a fixed tick of that period
//! (before 2026-12-07: every transaction waited for that tick, 0–20 ms).

use super::gossip::{BATCH_BYTES_MAX, BATCH_TXS_MAX};
use std::time::{Duration, Instant};

/// How long no transaction came before a batch goes.
pub const QUIET_MS: u64 = 1;
/// The most a batch's first transaction waits under a steady stream, and
/// the least time between two published batches that were not full.
pub const GAP_MS: u64 = 20;

/// Admitted transactions waiting to be published.
#[derive(Default)]
pub struct Outgoing {
    waiting: Option<Waiting>,
    /// When the last batch that was not full went.
    published_at: Option<Instant>,
}

/// A batch being gathered: never empty.
struct Waiting {
    txs: Vec<Vec<u8>>,
    bytes: usize,
    /// When its first and its last transaction came.
    first_at: Instant,
    last_at: Instant,
}

impl Waiting {
    fn is_full(&self) -> bool {
        self.txs.len() >= BATCH_TXS_MAX || self.bytes >= BATCH_BYTES_MAX
    }

    fn fits(&self, bytes: usize) -> bool {
        self.txs.len() < BATCH_TXS_MAX && self.bytes + bytes <= BATCH_BYTES_MAX
    }
}

impl Outgoing {
    /// Adds a transaction that came at `now`; returns the batch to publish
    /// at once when it could not take this one (this one starts the next).
    pub fn push(&mut self, tx: Vec<u8>, now: Instant) -> Option<Vec<Vec<u8>>> {
        let overflowing = (self.waiting.as_ref()).is_some_and(|waiting| !waiting.fits(tx.len()));
        let ready = if overflowing {
            self.take(now, true)
        } else {
            None
        };
        let waiting = self.waiting.get_or_insert_with(|| Waiting {
            txs: vec![],
            bytes: 0,
            first_at: now,
            last_at: now,
        });
        waiting.bytes += tx.len();
        waiting.txs.push(tx);
        waiting.last_at = now;
        ready
    }

    /// When the transactions waiting are due: at once when full; else
    /// [`QUIET_MS`] after the last came or [`GAP_MS`] after the first,
    /// whichever is sooner, and no sooner than `GAP_MS` after the last batch
    /// that was not full went. None when none wait.
    pub fn due(&self) -> Option<Instant> {
        let waiting = self.waiting.as_ref()?;
        if waiting.is_full() {
            return Some(waiting.first_at);
        }
        let quiet = waiting.last_at + Duration::from_millis(QUIET_MS);
        let waited = waiting.first_at + Duration::from_millis(GAP_MS);
        let ready = quiet.min(waited);
        let gap = (self.published_at).map(|at| at + Duration::from_millis(GAP_MS));
        Some(gap.map_or(ready, |gap| gap.max(ready)))
    }

    /// The batch, if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<Vec<u8>>> {
        match self.due() {
            Some(due) if due <= now => self.take(now, false),
            _ => None,
        }
    }

    /// The batch waiting (`overflowing`: it could not take the next); one
    /// that was not full starts the gap.
    fn take(&mut self, now: Instant, overflowing: bool) -> Option<Vec<Vec<u8>>> {
        let waiting = self.waiting.take()?;
        if !(overflowing || waiting.is_full()) {
            self.published_at = Some(now);
        }
        Some(waiting.txs)
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

    /// Pushes a whole batch's worth of transactions, all at `at`.
    fn fill(outgoing: &mut Outgoing, at: Instant) {
        for n in 0..BATCH_TXS_MAX {
            assert_eq!(outgoing.push(vec![n as u8], at), None);
        }
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
    fn a_batch_that_fills_is_due_at_once_even_within_the_gap_and_starts_none() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        outgoing.push(vec![0], t0);
        assert!(
            outgoing.take_due(t0 + ms(QUIET_MS)).is_some(),
            "not full: starts the gap"
        );
        let t1 = t0 + ms(2);
        fill(&mut outgoing, t1);
        assert_eq!(
            outgoing.due(),
            Some(t1),
            "full: due as it filled, gap or not"
        );
        let full = outgoing.take_due(t1).expect("the full batch");
        assert_eq!(full.len(), BATCH_TXS_MAX);
        // The rest of a client's burst waits the gap the small batch
        // started, neither more (a gap from the full one) nor less (none).
        let small_gap = t0 + ms(QUIET_MS) + ms(GAP_MS);
        let t2 = t0 + ms(5);
        outgoing.push(vec![1], t2);
        assert_eq!(outgoing.due(), Some(small_gap));
        assert!(outgoing.take_due(small_gap).is_some());
        let t3 = small_gap + us(500);
        outgoing.push(vec![2], t3);
        assert_eq!(outgoing.due(), Some(small_gap + ms(GAP_MS)));
    }

    #[test]
    fn the_transaction_after_a_full_batch_sends_it_and_starts_the_next() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        fill(&mut outgoing, t0);
        // The loop took another transaction before the due batch went: the
        // full batch goes then, never one transaction more than a peer accepts.
        let sent = outgoing.push(vec![0xee], t0).expect("the full batch");
        assert_eq!(sent.len(), BATCH_TXS_MAX);
        assert_eq!(outgoing.due(), Some(t0 + ms(QUIET_MS)), "no gap started");
        assert_eq!(outgoing.take_due(t0 + ms(QUIET_MS)), Some(vec![vec![0xee]]));
    }

    #[test]
    fn a_transaction_that_fills_the_bytes_exactly_fits() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        outgoing.push(vec![0; BATCH_BYTES_MAX - 1], t0);
        assert_eq!(outgoing.push(vec![1], t0), None, "exactly the bound fits");
        assert_eq!(outgoing.due(), Some(t0), "and the batch is full");
        let sent = outgoing.take_due(t0).expect("the full batch");
        assert_eq!(sent.iter().map(Vec::len).sum::<usize>(), BATCH_BYTES_MAX);
    }

    #[test]
    fn a_batch_that_cannot_take_the_next_goes_at_once_and_starts_no_gap() {
        let mut outgoing = Outgoing::default();
        let t0 = Instant::now();
        outgoing.push(vec![1], t0);
        let big = vec![0; BATCH_BYTES_MAX];
        let t1 = t0 + us(100);
        assert_eq!(outgoing.push(big, t1), Some(vec![vec![1]]));
        // The big one fills a batch by itself: due as it came.
        assert_eq!(outgoing.due(), Some(t1));
        assert_eq!(outgoing.take_due(t1).map(|b| b.len()), Some(1));
        let t2 = t1 + ms(3);
        outgoing.push(vec![2], t2);
        assert_eq!(outgoing.due(), Some(t2 + ms(QUIET_MS)), "no gap started");
    }
}
