//! A block's writes to one column family, handed to RocksDB in key order.
//!
//! Why: RocksDB inserts a write batch into each column family's memtable (a skip
//! list) one key at a time, and starts each search from the levels around the
//! previous insert that still bracket the new key. A key in hash order (a
//! transaction id, an owner, a record id) is far from the previous one, so its
//! search starts near the top; keys in order land next to each other. In
//! profiles of four validators at full load (2026-12-04) that search was 7.2 and
//! 6.9 % of all samples before the index writes were sorted, 4.0 and 3.8 % after
//! (`docs/performance-notes.md`, "Four validators"). (When other writes join
//! the same RocksDB write group, its memtable inserts run in parallel without
//! that hint; a block's commit is almost always written alone.)
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
}
