//! Bounded in-memory caches in front of RocksDB for the two reads a transaction
//! makes most: committed state values (every rule reads a handful) and state-tree
//! nodes (every block's root walks the paths of the keys it wrote). A read served
//! here skips RocksDB's memtable and block lookups; at a million records most
//! would otherwise go to SST files.
//!
//! Each cache keeps two generations: entries land in the *hot* one; when it holds
//! half the byte budget, it becomes the *cold* one and the old cold one is dropped.
//! A hit in the cold generation moves the entry back to the hot one. So memory
//! stays under the budget, every operation is O(1), and what is read often stays.
//!
//! Correctness: a cache may only hold what RocksDB holds (or, for tree nodes,
//! which never change once written, what a commit is writing; a write that
//! fails stops the node, but see [`Cache::update_new`] and
//! `Storage::commit_block`). Commits update it ([`Cache::update`],
//! [`Cache::update_new`]; the values after their write) and bump an epoch; a
//! reader that missed fills the entry only if no commit happened between its
//! look-up and its disk read ([`Cache::fill`]), so a value read just before a
//! commit can never be cached after it.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// A cache's bound and what it holds now (`node_storage`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheUsage {
    /// The bound (`[storage] state_cache_mib` or `tree_cache_mib`).
    pub capacity_bytes: u64,
    /// Keys, values and per-entry overhead held, as the cache weighs them.
    pub usage_bytes: u64,
    /// Entries held.
    pub entries: u64,
}

/// What an entry costs beyond its key and value bytes (hash slot, allocations).
pub const ENTRY_OVERHEAD_BYTES: usize = 64;

struct Generations<K, V> {
    hot: HashMap<K, V>,
    cold: HashMap<K, V>,
    hot_bytes: usize,
    /// What `cold` held when it turned cold, less what has left it since.
    cold_bytes: usize,
    /// Bumped by every commit's update, so a fill can tell it raced one.
    epoch: u64,
}

pub struct Cache<K, V> {
    inner: Mutex<Generations<K, V>>,
    bytes_max: usize,
    weigh: fn(&K, &V) -> usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    pub fn new(bytes_max: usize, weigh: fn(&K, &V) -> usize) -> Self {
        assert!(
            bytes_max >= 1024,
            "a cache smaller than 1 KiB caches nothing"
        );
        Cache {
            inner: Mutex::new(Generations {
                hot: HashMap::new(),
                cold: HashMap::new(),
                hot_bytes: 0,
                cold_bytes: 0,
                epoch: 0,
            }),
            bytes_max,
            weigh,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Generations<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value, or the epoch to pass to [`Cache::fill`] after a disk read.
    pub fn get(&self, key: &K) -> Result<V, u64> {
        let mut inner = self.lock();
        if let Some(value) = inner.hot.get(key) {
            return Ok(value.clone());
        }
        let Some(value) = self.take_cold(&mut inner, key) else {
            return Err(inner.epoch);
        };
        let retired = self.insert(&mut inner, key.clone(), value.clone());
        drop(inner);
        drop(retired);
        Ok(value)
    }

    /// Caches what a reader found on disk, unless a commit happened since its
    /// look-up at `epoch` (its value may be older than that commit's).
    pub fn fill(&self, key: K, value: V, epoch: u64) {
        let mut inner = self.lock();
        if inner.epoch == epoch {
            // Another reader may have filled it since, and a turnover made
            // that entry cold: one generation per key.
            self.take_cold(&mut inner, &key);
            let retired = self.insert(&mut inner, key, value);
            drop(inner);
            drop(retired);
        }
    }

    /// The epoch to pass to [`Cache::fill_many`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// [`Cache::fill`] for many entries under one lock, in order, while the
    /// cache holds less than `eighths` eighths of its budget: `None` (nothing
    /// kept) if a commit happened since `epoch`, else how many it kept (the
    /// first ones). Below 7/8, fills alone turn the cache over at most once,
    /// retiring no entry filled here (commits' inserts may turn it again).
    pub fn fill_many(&self, entries: Vec<(K, V)>, epoch: u64, eighths: usize) -> Option<usize> {
        assert!((1..=7).contains(&eighths), "{eighths} eighths of a budget");
        let share_bytes = self.bytes_max / 8 * eighths;
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return None;
        }
        let mut retired = vec![];
        let mut kept = 0;
        for (key, value) in entries {
            if inner.hot_bytes + inner.cold_bytes >= share_bytes {
                break;
            }
            self.take_cold(&mut inner, &key);
            retired.extend(self.insert(&mut inner, key, value));
            kept += 1;
        }
        drop(inner);
        drop(retired);
        Some(kept)
    }

    /// A commit's entries (after its write, or beside it for tree nodes): its
    /// values replace whatever was cached, and the keys it deleted (`None`)
    /// leave the cache.
    pub fn update(&self, entries: impl IntoIterator<Item = (K, Option<V>)>) {
        let mut inner = self.lock();
        inner.epoch += 1;
        let mut retired = vec![];
        for (key, value) in entries {
            self.take_cold(&mut inner, &key);
            match value {
                Some(value) => retired.extend(self.insert(&mut inner, key, value)),
                None => drop(self.take_hot(&mut inner, &key)),
            }
        }
        drop(inner);
        drop(retired);
    }

    /// A commit's update where the entries that go in have keys no earlier
    /// commit made (a tree node's key carries the version that wrote it): the
    /// `gone` keys leave the cache first, then the `new` entries go in without
    /// looking for an older copy in the cold generation. At a million records
    /// each look-up in a table of a million entries is a likely cache miss, and
    /// a commit's new nodes are most of what the node cache takes in.
    ///
    /// A new key can be cold already in one case: nodes go in beside their
    /// block's write, a failed write stops consensus, and only if a signature
    /// was also refused in that run does `consensus::run` restart it in this
    /// process; the block certified at this height, committed again, then
    /// finds its nodes here. The copies are the same node: the hot one is read
    /// first, and the cold one leaves with its generation (counted until then).
    pub fn update_new(
        &self,
        gone: impl IntoIterator<Item = K>,
        new: impl IntoIterator<Item = (K, V)>,
    ) {
        let mut inner = self.lock();
        inner.epoch += 1;
        let mut retired = vec![];
        // A key is in one generation but in the case above, so it is looked
        // for in the cold one only when the hot one lacks it: one look-up
        // fewer for every gone key held hot. (In that case the cold copy of a
        // key gone from the hot one stays until its generation is dropped: a
        // stale node, still the node its key names.)
        for key in gone {
            if self.take_hot(&mut inner, &key).is_none() {
                self.take_cold(&mut inner, &key);
            }
        }
        for (key, value) in new {
            retired.extend(self.insert(&mut inner, key, value));
        }
        drop(inner);
        drop(retired);
    }

    /// Drops one entry (tests that corrupt the disk under the cache).
    #[cfg(test)]
    pub fn forget(&self, key: &K) {
        let mut inner = self.lock();
        inner.epoch += 1;
        self.take_hot(&mut inner, key);
        self.take_cold(&mut inner, key);
    }

    /// Drops every entry (tests that start from a cold cache).
    #[cfg(test)]
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        (inner.hot, inner.cold) = Default::default();
        (inner.hot_bytes, inner.cold_bytes) = (0, 0);
    }

    /// Takes `key`'s entry out of the cold generation, if it is there.
    fn take_cold(&self, inner: &mut Generations<K, V>, key: &K) -> Option<V> {
        self.take(&mut inner.cold, &mut inner.cold_bytes, key)
    }

    /// Takes `key`'s entry out of the hot generation, if it is there.
    fn take_hot(&self, inner: &mut Generations<K, V>, key: &K) -> Option<V> {
        self.take(&mut inner.hot, &mut inner.hot_bytes, key)
    }

    /// Takes `key`'s entry out of one generation, and its weight out of that
    /// generation's count.
    fn take(&self, generation: &mut HashMap<K, V>, bytes: &mut usize, key: &K) -> Option<V> {
        let value = generation.remove(key)?;
        let weight = self.entry_bytes(key, &value);
        debug_assert!(*bytes >= weight, "a generation counts its entries");
        *bytes = bytes.saturating_sub(weight);
        Some(value)
    }

    /// An entry's weight, as the budget counts it.
    fn entry_bytes(&self, key: &K, value: &V) -> usize {
        (self.weigh)(key, value) + ENTRY_OVERHEAD_BYTES
    }

    /// Its bound, the bytes it holds as it weighs them, and its entries.
    pub fn usage(&self) -> CacheUsage {
        let inner = self.lock();
        CacheUsage {
            capacity_bytes: self.bytes_max as u64,
            usage_bytes: (inner.hot_bytes + inner.cold_bytes) as u64,
            entries: (inner.hot.len() + inner.cold.len()) as u64,
        }
    }

    /// Inserts into the hot generation, in place of the key's entry there if
    /// any; when the hot generation turns cold, returns the old cold one, for the
    /// caller to free after releasing the lock (tens of MiB of frees must not
    /// stall execution waiting for it). Callers take the key out of the cold
    /// generation first (but see [`Cache::update_new`]); its hot entry is
    /// replaced in place, in one table look-up, or taken out first when the
    /// hot generation is about to turn cold, so that it does not turn with it.
    #[must_use]
    fn insert(&self, inner: &mut Generations<K, V>, key: K, value: V) -> Option<HashMap<K, V>> {
        let bytes = self.entry_bytes(&key, &value);
        if inner.hot_bytes + bytes > self.bytes_max / 2 {
            // Its old entry must not turn cold with the rest.
            self.take_hot(inner, &key);
        }
        let mut retired = None;
        if inner.hot_bytes + bytes > self.bytes_max / 2 {
            let hot = std::mem::take(&mut inner.hot);
            retired = Some(std::mem::replace(&mut inner.cold, hot));
            inner.cold_bytes = inner.hot_bytes;
            inner.hot_bytes = 0;
        }
        match inner.hot.entry(key) {
            Entry::Occupied(mut entry) => {
                let old = entry.insert(value);
                let old_bytes = self.entry_bytes(entry.key(), &old);
                debug_assert!(
                    inner.hot_bytes >= old_bytes,
                    "a generation counts its entries"
                );
                inner.hot_bytes = inner.hot_bytes.saturating_sub(old_bytes);
            }
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
        }
        inner.hot_bytes += bytes;
        debug_assert!(inner.hot_bytes <= self.bytes_max / 2 + bytes);
        retired
    }

    /// The invariants, checked in tests (release builds, which the tests are,
    /// skip `debug_assert!`): no key in both generations (but for the one case
    /// [`Cache::update_new`] describes), and each generation's count is what
    /// its entries weigh.
    #[cfg(test)]
    fn check(&self) {
        let inner = self.lock();
        let weigh = |map: &HashMap<K, V>| -> usize {
            map.iter().map(|(k, v)| self.entry_bytes(k, v)).sum()
        };
        assert!(inner.hot.keys().all(|key| !inner.cold.contains_key(key)));
        assert_eq!(inner.hot_bytes, weigh(&inner.hot), "hot");
        assert_eq!(inner.cold_bytes, weigh(&inner.cold), "cold");
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.hot.len(), inner.cold.len())
    }
}

/// A state value's weight: key and value bytes.
// `&Vec<u8>`: the signature is `fn(&K, &V)` with `K = V = Vec<u8>`, fixed by `Cache`.
#[allow(clippy::ptr_arg)]
pub fn weigh_state(key: &Vec<u8>, value: &Vec<u8>) -> usize {
    key.len() + value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(bytes_max: usize) -> Cache<Vec<u8>, Vec<u8>> {
        Cache::new(bytes_max, weigh_state)
    }

    #[test]
    fn a_fill_that_raced_a_commit_is_not_kept() {
        let cache = cache(1 << 20);
        let epoch = cache.get(&b"k".to_vec()).unwrap_err();
        // A commit writes the key between the reader's miss and its fill.
        cache.update([(b"k".to_vec(), Some(b"new".to_vec()))]);
        cache.fill(b"k".to_vec(), b"old".to_vec(), epoch);
        assert_eq!(cache.get(&b"k".to_vec()), Ok(b"new".to_vec()));
        // Without a commit in between, the fill is kept.
        let epoch = cache.get(&b"j".to_vec()).unwrap_err();
        cache.fill(b"j".to_vec(), b"j".to_vec(), epoch);
        assert_eq!(cache.get(&b"j".to_vec()), Ok(b"j".to_vec()));
        // A commit that deletes a key takes it out.
        cache.update([(b"j".to_vec(), None)]);
        assert!(cache.get(&b"j".to_vec()).is_err());
    }

    /// Many fills at once follow one fill's rule (none is kept after a
    /// commit since their epoch), and stop at the share of the budget asked.
    #[test]
    fn a_batch_fill_that_raced_a_commit_keeps_nothing_and_stops_at_its_share() {
        let cache = cache(1024); // 165 bytes per entry below
        let entries = |keys: &[&[u8]], v: u8| -> Vec<(Vec<u8>, Vec<u8>)> {
            keys.iter().map(|k| (k.to_vec(), vec![v; 100])).collect()
        };
        let epoch = cache.epoch();
        cache.update([(b"a".to_vec(), Some(vec![2; 100]))]);
        assert_eq!(cache.fill_many(entries(&[b"a", b"b"], 1), epoch, 7), None);
        assert_eq!(cache.get(&b"a".to_vec()), Ok(vec![2; 100]));
        assert!(cache.get(&b"b".to_vec()).is_err());
        let epoch = cache.epoch();
        let more = entries(&[b"b", b"c", b"d", b"e"], 1);
        // a, b and c hold 495 bytes, past 3/8 (384): d and e stay out.
        assert_eq!(cache.fill_many(more, epoch, 3), Some(2));
        assert_eq!(cache.usage().entries, 3);
        assert!(cache.get(&b"d".to_vec()).is_err());
        let epoch = cache.epoch();
        assert_eq!(cache.fill_many(entries(&[b"d"], 1), epoch, 7), Some(1));
        assert_eq!(cache.get(&b"d".to_vec()), Ok(vec![1; 100]));
        cache.check();
    }

    /// An entry replaced or deleted leaves the count: usage is what the cache
    /// holds, not how often it was written.
    #[test]
    fn usage_counts_each_entry_once_however_often_it_is_replaced() {
        let cache = cache(1 << 20);
        for round in 0..1_000u32 {
            cache.update([(b"k".to_vec(), Some(round.to_be_bytes().to_vec()))]);
        }
        let usage = cache.usage();
        assert_eq!(usage.usage_bytes as usize, 1 + 4 + ENTRY_OVERHEAD_BYTES);
        assert_eq!(usage.entries, 1);
        cache.update([(b"k".to_vec(), None)]);
        assert_eq!((cache.usage().usage_bytes, cache.usage().entries), (0, 0));
    }

    /// A commit's new entries go in, its gone keys leave whichever
    /// generation holds them, and each entry is counted once.
    #[test]
    fn new_entries_go_in_and_gone_keys_leave_either_generation() {
        let cache = cache(1024); // each generation holds 512 bytes
        let entry = |v: u8| vec![v; 100]; // 1 + 100 + 64 = 165 bytes as weighed
        cache.update_new([], [(b"a".to_vec(), entry(1)), (b"b".to_vec(), entry(1))]);
        cache.update_new([], [(b"c".to_vec(), entry(1)), (b"d".to_vec(), entry(1))]);
        assert_eq!(
            cache.len(),
            (1, 3),
            "the fourth entry turned the first three cold"
        );
        cache.update_new([b"a".to_vec(), b"d".to_vec()], [(b"e".to_vec(), entry(2))]);
        assert!(
            cache.get(&b"a".to_vec()).is_err(),
            "gone from the cold generation"
        );
        assert!(
            cache.get(&b"d".to_vec()).is_err(),
            "gone from the hot generation"
        );
        assert_eq!(cache.get(&b"e".to_vec()), Ok(entry(2)));
        let usage = cache.usage();
        assert_eq!((usage.entries, usage.usage_bytes), (3, 3 * 165));
        cache.check();
        // Gone keys leave before new ones go in: a key both gone and new stays.
        cache.update_new([b"e".to_vec()], [(b"e".to_vec(), entry(3))]);
        assert_eq!(cache.get(&b"e".to_vec()), Ok(entry(3)));
        cache.check();
    }

    /// Replacing a key's entry when the hot generation is full takes its old
    /// entry out first: it does not turn cold beside the new one.
    #[test]
    fn a_key_replaced_in_a_full_hot_generation_is_held_once() {
        let cache = cache(1024);
        let entry = |v: u8, len: usize| vec![v; len];
        // Well below the bound a key's entry is replaced in place, and the
        // count follows the new value's size.
        cache.update([(b"a".to_vec(), Some(entry(1, 100)))]);
        cache.update([(b"a".to_vec(), Some(entry(2, 50)))]);
        assert_eq!(cache.usage().usage_bytes, 115);
        cache.check();
        let keys = [b"a".to_vec(), b"b".to_vec(), b"k".to_vec()];
        cache.update(keys.iter().map(|key| (key.clone(), Some(entry(1, 100)))));
        assert_eq!(cache.len(), (3, 0), "495 of 512 bytes");
        // 495 + 165 > 512, but without k's old entry it fits.
        cache.update([(b"k".to_vec(), Some(entry(2, 100)))]);
        assert_eq!(cache.len(), (3, 0));
        assert_eq!(cache.usage().usage_bytes, 3 * 165);
        cache.check();
        // 330 + 265 > 512 even without it: the generation turns, k stays hot.
        cache.update([(b"k".to_vec(), Some(entry(3, 200)))]);
        assert_eq!(cache.len(), (1, 2));
        assert_eq!(cache.usage().usage_bytes, 2 * 165 + 265);
        assert_eq!(cache.get(&b"k".to_vec()), Ok(entry(3, 200)));
        cache.check();
    }

    /// Two readers that missed the same key fill it, with a turnover between
    /// their fills: the key ends in one generation, counted once.
    #[test]
    fn a_key_filled_twice_across_a_turnover_is_held_once() {
        let cache = cache(1024);
        let entry = vec![1; 100]; // 165 bytes as weighed
        let epoch = cache.get(&b"k".to_vec()).unwrap_err();
        cache.fill(b"k".to_vec(), entry.clone(), epoch);
        for key in [b"a", b"b", b"c"] {
            cache.fill(key.to_vec(), entry.clone(), epoch);
        }
        assert_eq!(cache.len(), (1, 3), "k turned cold with a and b");
        cache.fill(b"k".to_vec(), entry.clone(), epoch);
        assert_eq!(cache.len(), (2, 2));
        cache.check();
        assert_eq!(cache.usage().usage_bytes, 4 * 165);
    }

    #[test]
    fn memory_stays_within_the_budget_and_recent_entries_stay() {
        let cache = cache(16 * 1024);
        for i in 0u32..10_000 {
            let epoch = cache.get(&i.to_be_bytes().to_vec()).unwrap_err();
            cache.fill(i.to_be_bytes().to_vec(), vec![0; 60], epoch);
            // Entry 0 is read all along: it never leaves.
            assert!(cache.get(&0u32.to_be_bytes().to_vec()).is_ok(), "at {i}");
        }
        let (hot, cold) = cache.len();
        let entry = 4 + 60 + ENTRY_OVERHEAD_BYTES;
        let usage = cache.usage();
        assert_eq!(usage.entries as usize, hot + cold);
        assert_eq!(
            usage.usage_bytes as usize,
            (hot + cold) * entry,
            "{usage:?}"
        );
        assert_eq!(usage.capacity_bytes, 16 * 1024);
        assert!((hot + cold) * entry <= 16 * 1024, "{hot} + {cold} entries");
        assert!(hot + cold > 16 * 1024 / entry / 2, "{hot} + {cold} entries");
        assert!(cache.get(&9_999u32.to_be_bytes().to_vec()).is_ok());
        assert!(cache.get(&1u32.to_be_bytes().to_vec()).is_err());
    }
}
