//! State snapshots on the serving side, so a node can join a chain with years of
//! history without replaying it: a frozen copy of the database (a RocksDB
//! checkpoint, opened read-only) whose state is paged out in key order; and
//! what a node that joined this way keeps in place of the history it lacks
//! (where its history starts, the validator-set changes it verified). The
//! joining side's writes are in [`super::restore`].

use super::*;
use tamga_verify::SetChange;

/// Most state pairs one page holds.
pub const PAGE_PAIRS_MAX: usize = 4096;
/// Most key and value bytes one page holds (but a page always holds at least
/// one pair). As hex in JSON that is 4 MiB, within the RPC's default response
/// bound of 16 MiB.
pub const PAGE_BYTES_MAX: usize = 2 << 20;

/// The lowest height whose block this node holds, when it joined from a
/// snapshot (absent: it replayed from genesis).
pub(super) const META_HISTORY_FROM: &[u8] = b"history_from";

/// One page of state, in key order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StatePage {
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The last key of this page, when more may follow.
    pub next: Option<Vec<u8>>,
}

impl Storage {
    /// A frozen copy of the whole database in `dir` (which must not exist):
    /// hard links to its files, after its memtables are flushed.
    pub fn checkpoint(&self, dir: &Path) -> Result<(), StorageError> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(dir)?;
        Ok(())
    }

    /// State pairs in key order after `after` (from the first when `None`),
    /// within [`PAGE_PAIRS_MAX`] and [`PAGE_BYTES_MAX`].
    pub fn state_page(&self, after: Option<&[u8]>) -> Result<StatePage, StorageError> {
        let bounds = (PAGE_PAIRS_MAX, PAGE_BYTES_MAX);
        self.state_pairs(after, bounds, rocksdb::ReadOptions::default())
    }

    /// [`Storage::state_page`] within `(pairs, bytes)` bounds (but at least
    /// one pair), read with `options`, through an iterator made now.
    pub(super) fn state_pairs(
        &self,
        after: Option<&[u8]>,
        (pairs_max, bytes_max): (usize, usize),
        options: rocksdb::ReadOptions,
    ) -> Result<StatePage, StorageError> {
        let mut iter = self.db.raw_iterator_cf_opt(self.cf(CF_STATE), options);
        match after {
            Some(after) => {
                iter.seek(after);
                if iter.key() == Some(after) {
                    iter.next();
                }
            }
            None => iter.seek_to_first(),
        }
        let mut page = StatePage::default();
        let mut bytes = 0;
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            let full = page.pairs.len() == pairs_max
                || (bytes + key.len() + value.len() > bytes_max && !page.pairs.is_empty());
            if full {
                page.next = page.pairs.last().map(|(key, _)| key.clone());
                return Ok(page);
            }
            bytes += key.len() + value.len();
            page.pairs.push((key.to_vec(), value.to_vec()));
            iter.next();
        }
        iter.status()?;
        Ok(page)
    }

    /// The lowest height whose block this node holds: 0 for a node that
    /// replayed from genesis, the snapshot's height for one that joined from it.
    pub fn history_from(&self) -> Result<u64, StorageError> {
        Ok(self
            .get_decoded(CF_META, META_HISTORY_FROM, "history start")?
            .unwrap_or(0))
    }

    /// A validator-set change kept whole when this node restored a snapshot
    /// (its block is below this node's history); `None` for one whose block is here.
    pub fn kept_set_change(&self, height: u64) -> Result<Option<SetChange>, StorageError> {
        match self.get_raw(CF_IDX_VALSETS, &height.to_be_bytes())? {
            Some(bytes) if !bytes.is_empty() => Ok(Some(decode_stored_serde(
                &bytes,
                "kept validator-set change",
            )?)),
            _ => Ok(None),
        }
    }
}

impl Storage {
    /// Tests: every key and value of a column family, in key order.
    #[cfg(test)]
    pub(crate) fn column(&self, cf: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let iter = self
            .db
            .iterator_cf(self.cf(cf), rocksdb::IteratorMode::Start);
        iter.map(|pair| pair.expect("test read"))
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocksdb::WriteBatch;
    use tamga_runtime::state::WriteSet;

    /// Pages cover the state in key order, each within its bounds, each
    /// resuming after the last key of the one before.
    #[test]
    fn pages_cover_the_state_in_key_order_within_their_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
        let mut state: WriteSet = (0..PAGE_PAIRS_MAX as u32 + 900)
            .map(|i| (i.to_be_bytes().to_vec(), Some(vec![7; 16])))
            .collect();
        // Three values of 900 KiB: a page passes 2 MiB with the third.
        for i in [10u32, 11, 12] {
            state.insert(i.to_be_bytes().to_vec(), Some(vec![1; 900 << 10]));
        }
        let (_, tree) = smt::state_root_after(&storage, 0, &state).unwrap();
        let mut batch = WriteBatch::default();
        storage.put_state(&mut batch, &state, &tree);
        storage.write(batch).unwrap();
        let mut after: Option<Vec<u8>> = None;
        let mut seen = WriteSet::new();
        let mut sizes = vec![];
        loop {
            let page = storage.state_page(after.as_deref()).unwrap();
            let bytes: usize = page.pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(bytes <= PAGE_BYTES_MAX && page.pairs.len() <= PAGE_PAIRS_MAX);
            sizes.push(page.pairs.len());
            for (key, value) in page.pairs {
                assert!(
                    after.as_ref().is_none_or(|last| key > *last),
                    "out of order"
                );
                after = Some(key.clone());
                seen.insert(key, Some(value));
            }
            match page.next {
                Some(next) => assert_eq!(Some(next), after),
                None => break,
            }
        }
        assert_eq!(seen, state);
        // 0..=11 (the third large value passes the bytes), 12 and 4,095 more
        // (the count), then the last 888.
        assert_eq!(sizes, [12, PAGE_PAIRS_MAX, 888]);
    }
}
