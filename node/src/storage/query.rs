//! Reads for RPC and the node: blocks, commits, transactions, records, indexes.
//! Every listing is bounded by the caller's limit.

use super::*;
use tamga_runtime::records::Record;
use tamga_runtime::state::keys;
use tamga_runtime::types::{Block, Commit};
use tamga_runtime::SubjectId;

impl Storage {
    pub fn block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        self.get_decoded(CF_BLOCKS, &height.to_be_bytes(), "block")
    }

    pub fn commit(&self, height: u64) -> Result<Option<Commit>, StorageError> {
        self.get_decoded(CF_COMMITS, &height.to_be_bytes(), "commit")
    }

    pub fn tx_location(&self, id: &Hash32) -> Result<Option<TxLocation>, StorageError> {
        self.get_decoded(CF_TXS, &id.0, "tx location")
    }

    /// A value from the ledger state, decoded (for RPC and tools: what it reads
    /// from disk is not cached).
    pub fn state_value<T: encoding::Decode<()>>(
        &self,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, StorageError> {
        self.state_raw(key, false)?
            .map(|bytes| decode_stored(&bytes, what))
            .transpose()
    }

    pub fn record(&self, id: &Hash32) -> Result<Option<Record>, StorageError> {
        self.state_value(&keys::record(id), "record")
    }

    /// Up to `limit` record ids owned by `owner`, in id order, after `after`.
    pub fn records_by_owner(
        &self,
        owner: &SubjectId,
        after: Option<Hash32>,
        limit: usize,
    ) -> Result<Vec<Hash32>, StorageError> {
        self.pairs(CF_IDX_OWNER, &owner.0, after, limit)
    }

    /// Up to `limit` certificate ids issued to `subject`, in id order, after `after`.
    pub fn certificates_of(
        &self,
        subject: &SubjectId,
        after: Option<Hash32>,
        limit: usize,
    ) -> Result<Vec<Hash32>, StorageError> {
        self.pairs(CF_IDX_CERTS, &subject.0, after, limit)
    }

    /// Ids in a pair index (`first` ‖ id), in id order, after `after`.
    fn pairs(
        &self,
        cf: &str,
        first: &[u8; 32],
        after: Option<Hash32>,
        limit: usize,
    ) -> Result<Vec<Hash32>, StorageError> {
        let start = match after {
            Some(after) => [commit::pair_key(first, &after).as_slice(), &[0]].concat(),
            None => first.to_vec(),
        };
        let mut ids = Vec::new();
        let mut iter = self.db.raw_iterator_cf(self.cf(cf));
        iter.seek(&start);
        while let Some(key) = iter.key() {
            if ids.len() >= limit || !key.starts_with(first) || key.len() != 64 {
                break;
            }
            let mut id = [0u8; 32];
            id.copy_from_slice(&key[32..]);
            ids.push(Hash32(id));
            iter.next();
        }
        iter.status()?;
        Ok(ids)
    }

    /// Up to `limit` revocations recorded at `from_height` or later, in order
    /// (height recorded, certificate id), after `after` within that height.
    pub fn revocations(
        &self,
        from_height: u64,
        after: Option<Hash32>,
        limit: usize,
    ) -> Result<Vec<(u64, Hash32)>, StorageError> {
        let start = commit::revocation_key(from_height, &after.unwrap_or_default());
        let mut out = Vec::new();
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_IDX_REVOCATIONS));
        iter.seek(&start);
        while let Some(key) = iter.key() {
            if out.len() >= limit || key.len() != 40 {
                break;
            }
            if after.is_some() && key == start.as_slice() {
                iter.next();
                continue;
            }
            let mut height = [0u8; 8];
            height.copy_from_slice(&key[..8]);
            let mut id = [0u8; 32];
            id.copy_from_slice(&key[8..]);
            out.push((u64::from_be_bytes(height), Hash32(id)));
            iter.next();
        }
        iter.status()?;
        Ok(out)
    }

    /// Up to `limit` history entries of `record`, oldest first, skipping `skip`.
    pub fn history(
        &self,
        record: &Hash32,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StorageError> {
        let mut entries = Vec::new();
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_IDX_HISTORY));
        iter.seek(record.0);
        let mut seen = 0usize;
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            if entries.len() >= limit || !key.starts_with(&record.0) {
                break;
            }
            if seen >= skip {
                let entry = encoding::decode(value).map_err(|e| StorageError::Corrupt {
                    what: "history entry",
                    reason: e.to_string(),
                })?;
                entries.push(entry);
            }
            seen += 1;
            iter.next();
        }
        iter.status()?;
        Ok(entries)
    }
}
