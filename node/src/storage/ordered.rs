//! A block's writes to one column family, handed to RocksDB in key order.
//!
//! Why: RocksDB inserts a write batch into each column family's memtable (a skip
//! list) one key at a time, and starts each search from where the previous insert
//! landed. Keys that arrive in hash order (transaction ids, owners, record ids)
//! make every insert search the list from its top; keys in order land next to the
//! previous one. A profile of four validators at full load put about a third of
//! the commit in that search (README, "Where the time goes").
//!
//! The order within one key is kept (a stable sort): a block that moves a record
//! A→B→A deletes and puts the same owner-index key more than once, and the last
//! write must still win.

use rocksdb::{ColumnFamily, WriteBatch};

/// A key, and the value to put there (`None`: delete it).
type Op = (Vec<u8>, Option<Vec<u8>>);

/// Writes to one column family, buffered until [`Ordered::write_into`].
#[derive(Default)]
pub(super) struct Ordered {
    /// In the order they were made.
    ops: Vec<Op>,
}

impl Ordered {
    pub fn with_capacity(capacity: usize) -> Self {
        Ordered {
            ops: Vec::with_capacity(capacity),
        }
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// Appends the writes to `batch` for `cf`, sorted by key; writes to the same
    /// key keep the order they were made in.
    pub fn write_into(mut self, batch: &mut WriteBatch, cf: &ColumnFamily) {
        // `sort_by` is stable: equal keys are not reordered.
        self.ops.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, value) in self.ops {
            match value {
                Some(value) => batch.put_cf(cf, key, value),
                None => batch.delete_cf(cf, key),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Op, Ordered};
    use rocksdb::{Options, WriteBatch, WriteBatchIteratorCf, DB};

    /// The batch's operations, in the order RocksDB will apply them.
    #[derive(Default)]
    struct Seen(Vec<Op>);

    impl WriteBatchIteratorCf for Seen {
        fn put_cf(&mut self, _: u32, key: &[u8], value: &[u8]) {
            self.0.push((key.to_vec(), Some(value.to_vec())));
        }
        fn delete_cf(&mut self, _: u32, key: &[u8]) {
            self.0.push((key.to_vec(), None));
        }
        fn merge_cf(&mut self, _: u32, _: &[u8], _: &[u8]) {
            panic!("commits do not merge");
        }
    }

    /// Many writes to one key among writes to others: a sort that is not stable
    /// reorders some of them.
    fn writes() -> (Ordered, Vec<Op>) {
        let mut ordered = Ordered::default();
        let mut made = vec![];
        for i in 0u8..200 {
            let other = vec![255 - i, i];
            ordered.put(other.clone(), vec![i]);
            made.push((other, Some(vec![i])));
            let same = b"owner/record".to_vec();
            if i % 3 == 0 {
                ordered.delete(same.clone());
                made.push((same, None));
            } else {
                ordered.put(same.clone(), vec![i]);
                made.push((same, Some(vec![i])));
            }
        }
        (ordered, made)
    }

    #[test]
    fn writes_are_sorted_by_key_and_keep_their_order_within_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        let db = DB::open_cf(&options, dir.path(), ["c"]).unwrap();
        let (ordered, made) = writes();
        let mut batch = WriteBatch::default();
        ordered.write_into(&mut batch, db.cf_handle("c").unwrap());
        let mut seen = Seen::default();
        batch.iterate_cf(&mut seen);
        assert!(seen.0.windows(2).all(|w| w[0].0 <= w[1].0), "key order");
        let mut expected = made.clone();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(seen.0, expected, "same-key writes in the order made");
        // Applied, the last write to each key wins, as it would unsorted.
        db.write(batch).unwrap();
        let last = |key: &[u8]| made.iter().rev().find(|(k, _)| k == key).unwrap().1.clone();
        let cf = db.cf_handle("c").unwrap();
        for (key, _) in &made {
            assert_eq!(db.get_cf(cf, key).unwrap(), last(key), "key {key:?}");
        }
    }

    /// Why the tree's nodes are written unsorted: jmt hands a batch's nodes over
    /// in a map ordered by (version, path), all of one version, and the encoding
    /// keeps that order. If either changed, this fails.
    #[test]
    fn a_batch_of_tree_nodes_is_already_in_encoded_key_order() {
        use crate::storage::{state_root_after, Storage, BLOCK_CACHE_BYTES_DEFAULT};
        use tamga_runtime::state::WriteSet;
        use tamga_runtime::types::encoding::encode;
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), BLOCK_CACHE_BYTES_DEFAULT).unwrap();
        let many: WriteSet = (0u32..2_000)
            .map(|i| (i.to_le_bytes().to_vec(), Some(vec![1])))
            .collect();
        let one: WriteSet = [(b"tip".to_vec(), Some(vec![2]))].into();
        // Version 300's encoding takes three bytes, the earlier ones one.
        for version in 0u64..=300 {
            let writes = if [0, 1, 300].contains(&version) {
                &many
            } else {
                &one
            };
            let (_, tree) = state_root_after(&storage, version, writes).unwrap();
            let keys: Vec<Vec<u8>> = tree.node_batch.nodes().keys().map(encode).collect();
            assert!(
                keys.windows(2).all(|w| w[0] < w[1]),
                "version {version}: encoded node keys out of order"
            );
            let mut batch = WriteBatch::default();
            storage.put_state(&mut batch, writes, &tree);
            storage.write(batch).unwrap();
        }
    }
}
