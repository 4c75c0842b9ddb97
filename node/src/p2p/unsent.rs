//! The batches this node admitted that no peer could take yet, in order, for
//! [`super::publisher`] to publish later.
//!
//! Bounded by transactions and by bytes; past either bound a new batch is not
//! kept (its transactions stay in this node's mempool, for its own proposals).
//! The newest goes, not the oldest: a signer's later transactions are useless
//! to peers without its earlier ones (a nonce gap); the publisher then refuses
//! every later batch too until the kept ones have gone, so what is kept stays a
//! prefix of what was admitted.

use std::collections::VecDeque;

/// Transactions kept, at most.
pub const UNSENT_TXS_MAX: usize = 10_000;
/// Bytes of transactions kept, at most.
pub const UNSENT_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Unpublished batches, oldest first.
#[derive(Default)]
pub struct Unsent {
    batches: VecDeque<Vec<Vec<u8>>>,
    txs: usize,
    bytes: usize,
}

fn bytes_of(batch: &[Vec<u8>]) -> usize {
    batch.iter().map(Vec::len).sum()
}

impl Unsent {
    /// Keeps `batch` after the others; returns how many transactions were not
    /// kept: none, or the whole batch when it would pass a bound.
    pub fn keep(&mut self, batch: Vec<Vec<u8>>) -> usize {
        let bytes = bytes_of(&batch);
        if self.txs + batch.len() > UNSENT_TXS_MAX || self.bytes + bytes > UNSENT_BYTES_MAX {
            return batch.len();
        }
        self.txs += batch.len();
        self.bytes += bytes;
        self.batches.push_back(batch);
        0
    }

    /// Puts back the batch [`Unsent::take`] gave, first again (no peer took it).
    pub fn put_back(&mut self, batch: Vec<Vec<u8>>) {
        self.txs += batch.len();
        self.bytes += bytes_of(&batch);
        self.batches.push_front(batch);
    }

    /// The oldest batch kept.
    pub fn take(&mut self) -> Option<Vec<Vec<u8>>> {
        let batch = self.batches.pop_front()?;
        self.txs -= batch.len();
        self.bytes -= bytes_of(&batch);
        Some(batch)
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_come_back_oldest_first_and_then_none() {
        let mut unsent = Unsent::default();
        assert!(unsent.is_empty());
        assert_eq!(unsent.keep(vec![vec![1], vec![2]]), 0);
        assert_eq!(unsent.keep(vec![vec![3]]), 0);
        assert_eq!(unsent.take(), Some(vec![vec![1], vec![2]]));
        assert_eq!(unsent.take(), Some(vec![vec![3]]));
        assert_eq!(unsent.take(), None);
        assert!(unsent.is_empty());
        assert_eq!((unsent.txs, unsent.bytes), (0, 0));
    }

    #[test]
    fn a_batch_put_back_comes_first_again() {
        let mut unsent = Unsent::default();
        unsent.keep(vec![vec![1]]);
        unsent.keep(vec![vec![2]]);
        let first = unsent.take().expect("kept");
        unsent.put_back(first);
        assert_eq!(unsent.take(), Some(vec![vec![1]]));
        assert_eq!(unsent.take(), Some(vec![vec![2]]));
        assert_eq!((unsent.txs, unsent.bytes), (0, 0));
    }

    #[test]
    fn past_the_transaction_bound_the_newest_batch_is_not_kept() {
        let mut unsent = Unsent::default();
        let batch = |tag: u8| vec![vec![tag]; UNSENT_TXS_MAX / 4];
        for tag in 0..4 {
            assert_eq!(unsent.keep(batch(tag)), 0, "exactly the bound fits");
        }
        assert_eq!(unsent.keep(batch(4)), UNSENT_TXS_MAX / 4);
        assert_eq!(unsent.txs, UNSENT_TXS_MAX);
        assert_eq!(unsent.take(), Some(batch(0)), "the oldest stay");
        assert_eq!(unsent.keep(batch(5)), 0, "room again");
    }

    #[test]
    fn past_the_byte_bound_the_newest_batch_is_not_kept() {
        let mut unsent = Unsent::default();
        let half = vec![vec![7u8; UNSENT_BYTES_MAX / 2]];
        assert_eq!(unsent.keep(half.clone()), 0);
        assert_eq!(unsent.keep(half.clone()), 0, "exactly the bound fits");
        assert_eq!(unsent.keep(vec![vec![8]]), 1);
        assert_eq!(unsent.bytes, UNSENT_BYTES_MAX);
        assert_eq!(unsent.take(), Some(half));
        let too_big = vec![vec![9u8; UNSENT_BYTES_MAX / 2 + 1]];
        assert_eq!(unsent.keep(too_big), 1);
        assert_eq!(unsent.bytes, UNSENT_BYTES_MAX / 2);
    }
}
