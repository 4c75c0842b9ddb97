//! Reads that certificates are assembled from (Art. 62): a record's newest
//! provenance entries up to a height, and the heights of validator-set changes.
//! Each is bounded, so one request costs the node a bounded amount of work.

use super::{Storage, StorageError, CF_IDX_HISTORY, CF_IDX_VALSETS};
use crate::storage::HistoryEntry;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;

impl Storage {
    /// The newest provenance entries of `record` at or below `height`, oldest
    /// first: at least `soft_max` of them when there are that many, always whole
    /// blocks (so the running digest before them is a stored tree version), and
    /// never more than `hard_max`. `None` when one block alone exceeds `hard_max`.
    pub fn latest_history(
        &self,
        record: &Hash32,
        height: u64,
        soft_max: usize,
        hard_max: usize,
    ) -> Result<Option<Vec<HistoryEntry>>, StorageError> {
        let mut entries: Vec<HistoryEntry> = Vec::new();
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_IDX_HISTORY));
        let mut upper = record.0.to_vec();
        upper.extend_from_slice(&height.to_be_bytes());
        upper.extend_from_slice(&[0xff; 8]);
        iter.seek_for_prev(&upper);
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            if !key.starts_with(&record.0) {
                break;
            }
            let entry: HistoryEntry =
                encoding::decode(value).map_err(|e| StorageError::Corrupt {
                    what: "history entry",
                    reason: e.to_string(),
                })?;
            let block_done = entries
                .last()
                .is_some_and(|last| last.height != entry.height);
            if entries.len() >= soft_max && block_done {
                break;
            }
            if entries.len() >= hard_max {
                return Ok(None);
            }
            entries.push(entry);
            iter.prev();
        }
        iter.status()?;
        entries.reverse();
        Ok(Some(entries))
    }

    /// Heights at or below `height` whose block scheduled a validator-set change,
    /// oldest first. Bounded by the chain: one change at a time, each at least
    /// `VALIDATOR_SET_DELAY` heights after the last.
    pub fn set_change_heights(&self, height: u64) -> Result<Vec<u64>, StorageError> {
        let mut heights = Vec::new();
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_IDX_VALSETS));
        iter.seek_to_first();
        while let Some(key) = iter.key() {
            let Ok(bytes) = <[u8; 8]>::try_from(key) else {
                return Err(StorageError::Corrupt {
                    what: "validator-set change index",
                    reason: format!("key of {} bytes", key.len()),
                });
            };
            let at = u64::from_be_bytes(bytes);
            if at > height {
                break;
            }
            heights.push(at);
            iter.next();
        }
        iter.status()?;
        Ok(heights)
    }
}
