//! What consensus must find again after a crash, kept in RocksDB beside the chain:
//! the blocks this node accepted as proposals (consensus's WAL remembers only
//! their hashes, and may decide one after a restart), the block this node itself
//! proposed in each round (so it re-proposes the same one, never a second), and
//! evidence of equivocation. Each proposal write is synced before consensus hears
//! of the value; proposals at or below a committed height go in that height's
//! commit batch. RocksDB's own log makes every write all-or-nothing: no torn file.

use super::*;
use rocksdb::{WriteBatch, WriteOptions};
use std::sync::atomic::Ordering;
use tamga_runtime::types::Evidence;

fn block_key(height: u64, id: &Hash32) -> Vec<u8> {
    [height.to_be_bytes().as_slice(), &id.0].concat()
}

fn own_key(height: u64, round: u32) -> Vec<u8> {
    [height.to_be_bytes().as_slice(), &round.to_be_bytes()].concat()
}

/// Evidence entries kept per height (Malachite reports at most a few per validator).
pub const EVIDENCE_PER_HEIGHT_MAX: usize = 256;

impl Storage {
    fn put_synced(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        Ok(self.db.put_cf_opt(self.cf(cf), key, value, &options)?)
    }

    /// Keeps an accepted (or own) proposal's block bytes, durably.
    pub fn save_proposal(
        &self,
        height: u64,
        id: &Hash32,
        block: &[u8],
    ) -> Result<(), StorageError> {
        self.put_synced(CF_PROPOSALS, &block_key(height, id), block)
    }

    pub fn proposal(&self, height: u64, id: &Hash32) -> Result<Option<Vec<u8>>, StorageError> {
        self.get_raw(CF_PROPOSALS, &block_key(height, id))
    }

    /// Keeps the block this node proposes in a round (its bytes, as
    /// [`Self::save_proposal`] does) and which block it is, in one synced
    /// write, before it is signed and sent: one disk sync on the proposer's
    /// path instead of two, and no crash can leave one without the other.
    pub fn save_own_proposal(
        &self,
        height: u64,
        round: u32,
        id: &Hash32,
        block: &[u8],
    ) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_PROPOSALS), block_key(height, id), block);
        batch.put_cf(self.cf(CF_OWN_PROPOSALS), own_key(height, round), id.0);
        self.write(batch)
    }

    pub fn own_proposal(&self, height: u64, round: u32) -> Result<Option<Hash32>, StorageError> {
        let Some(bytes) = self.get_raw(CF_OWN_PROPOSALS, &own_key(height, round))? else {
            return Ok(None);
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| StorageError::Corrupt {
            what: "own proposal id",
            reason: "not 32 bytes".into(),
        })?;
        Ok(Some(Hash32(bytes)))
    }

    /// Drops every proposal at or below `height` (in the block's commit batch),
    /// key by key, from the lowest height not pruned yet. Not a range deletion:
    /// each commit would leave one more range tombstone in the memtable, and
    /// RocksDB sorts every tombstone of the active memtable again on each read of
    /// these column families (one read per round), so a long-running node spent
    /// milliseconds per read on them. The keys found are few: the proposals of
    /// the heights since the last commit.
    pub(super) fn prune_proposals(
        &self,
        batch: &mut WriteBatch,
        height: u64,
    ) -> Result<(), StorageError> {
        let from = self.proposals_pruned_below.load(Ordering::Acquire);
        for cf in [CF_PROPOSALS, CF_OWN_PROPOSALS] {
            let mut options = rocksdb::ReadOptions::default();
            options.set_iterate_lower_bound(from.to_be_bytes().to_vec());
            options.set_iterate_upper_bound((height + 1).to_be_bytes().to_vec());
            let mut iter = self.db.raw_iterator_cf_opt(self.cf(cf), options);
            iter.seek_to_first();
            while let Some(key) = iter.key() {
                batch.delete_cf(self.cf(cf), key);
                iter.next();
            }
            iter.status()?;
        }
        Ok(())
    }

    /// After the commit batch that pruned proposals at or below `height` is written.
    pub(super) fn proposals_pruned(&self, height: u64) {
        self.proposals_pruned_below
            .fetch_max(height + 1, Ordering::AcqRel);
    }

    /// Keeps the evidence reported when `seen_at` was finalized.
    pub fn save_evidence(&self, seen_at: u64, evidence: &[Evidence]) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        for (index, item) in evidence.iter().take(EVIDENCE_PER_HEIGHT_MAX).enumerate() {
            let key = [seen_at.to_be_bytes(), (index as u64).to_be_bytes()].concat();
            batch.put_cf(self.cf(CF_EVIDENCE), key, encoding::encode(item));
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        Ok(self.db.write_opt(batch, &options)?)
    }

    /// Evidence seen at heights `from..=to`, oldest first, at most `limit` entries.
    pub fn evidence(
        &self,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<Evidence>, StorageError> {
        let mut out = Vec::new();
        let start = from.to_be_bytes();
        let mode = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(self.cf(CF_EVIDENCE), mode) {
            let (key, value) = item?;
            let height =
                u64::from_be_bytes(key[..8].try_into().expect("evidence keys are 16 bytes"));
            if height > to || out.len() >= limit {
                break;
            }
            let evidence = encoding::decode(&value).map_err(|e| StorageError::Corrupt {
                what: "evidence",
                reason: e.to_string(),
            })?;
            out.push(evidence);
        }
        Ok(out)
    }
}

impl Storage {
    /// Point deletions in the memtables of the proposal column families (tests:
    /// a range deletion is not counted here, so pruning that went back to range
    /// tombstones shows as none).
    #[cfg(test)]
    pub(crate) fn proposal_point_deletes(&self) -> u64 {
        [CF_PROPOSALS, CF_OWN_PROPOSALS]
            .iter()
            .map(|cf| {
                (self.db)
                    .property_int_value_cf(self.cf(cf), "rocksdb.num-deletes-active-mem-table")
                    .expect("a RocksDB property")
                    .expect("reported for every column family")
            })
            .sum()
    }
}
