//! The signers' keys this process has seen verify a signature: decompressed
//! once, and for the few that sign most, a fixed-base table
//! ([`super::ed25519_table`]) that halves the cost of their checks. A
//! registry's transactions come mostly from a few signers (registrars,
//! notaries, an operator's key), and a node checks every transaction.
//!
//! Every limit holds against a stranger who signs with as many keys as they
//! like: at most [`KEYS_CACHED_MAX`] keys (then the cache is emptied and
//! refilled), at most [`TABLES_MAX`] tables (plus one being built per
//! verifying thread), and a table is built only for a key that has been looked
//! up [`TABLE_AFTER_USES`] times since the last decision, so a build (about 1
//! ms, some 35 checks) follows at least 256 checks of that key. None of this
//! changes a verdict: a check with a table computes the same point.

use super::ed25519_table::FixedBase;
use curve25519_dalek_5::edwards::EdwardsPoint;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Signers' keys whose decompression is kept (only keys that have verified a
/// signature). Past this the cache is emptied and refilled, tables and all.
pub const KEYS_CACHED_MAX: usize = 4096;

/// Keys with a fixed-base table: 640 KiB each, so 10 MiB.
pub const TABLES_MAX: usize = 16;

/// Look-ups of a key, since the last decision, before it earns a table: the
/// build costs about 35 checks and saves about half of each later one.
pub const TABLE_AFTER_USES: u32 = 256;

/// A key that has verified a signature.
struct Known {
    /// `−A`: the verification equation uses it.
    minus_a: EdwardsPoint,
    /// Look-ups since the last decision (see [`KeyCache::make_room`]).
    uses: u32,
    table: Option<Arc<FixedBase>>,
    /// A table is being built for it (it holds one of the slots).
    building: bool,
}

impl Known {
    fn holds_slot(&self) -> bool {
        self.table.is_some() || self.building
    }
}

/// What a look-up found: `−A`, its table if built, and whether the caller
/// should build one now (then hand it to [`KeyCache::install`]).
pub struct Found {
    pub minus_a: EdwardsPoint,
    pub table: Option<Arc<FixedBase>>,
    pub build: bool,
}

pub struct KeyCache {
    known: HashMap<[u8; 32], Known>,
    tables_max: usize,
    table_after_uses: u32,
    /// Products computed with tables (see [`KeyCache::count_tabled`]).
    tabled_checks: u64,
}

/// The process's cache, which every check uses.
pub fn global() -> &'static Mutex<KeyCache> {
    static KEYS: OnceLock<Mutex<KeyCache>> = OnceLock::new();
    KEYS.get_or_init(|| Mutex::new(KeyCache::new(TABLES_MAX, TABLE_AFTER_USES)))
}

/// The cache, locked. It holds only finished entries: a panic elsewhere
/// leaves it usable.
pub fn lock(cache: &Mutex<KeyCache>) -> MutexGuard<'_, KeyCache> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

impl KeyCache {
    pub fn new(tables_max: usize, table_after_uses: u32) -> Self {
        KeyCache {
            known: HashMap::with_capacity(KEYS_CACHED_MAX),
            tables_max,
            table_after_uses,
            tabled_checks: 0,
        }
    }

    /// A known key, counting the use; `build` when it has just earned a table.
    pub fn find(&mut self, key: &[u8; 32]) -> Option<Found> {
        let known = self.known.get_mut(key)?;
        known.uses = known.uses.saturating_add(1);
        let earned = !known.holds_slot() && known.uses >= self.table_after_uses;
        let found = Found {
            minus_a: known.minus_a,
            table: known.table.clone(),
            build: false,
        };
        let build = earned && self.make_room(key);
        Some(Found { build, ..found })
    }

    /// Keeps a key that has just verified a signature: a stranger cannot fill
    /// the cache with keys that sign nothing.
    pub fn remember(&mut self, key: &[u8; 32], minus_a: EdwardsPoint) {
        if self.known.len() >= KEYS_CACHED_MAX {
            self.known.clear();
        }
        self.known.entry(*key).or_insert(Known {
            minus_a,
            uses: 0,
            table: None,
            building: false,
        });
    }

    /// A table built after [`Found::build`]; dropped if its key has since
    /// left the cache or given up its slot.
    pub fn install(&mut self, key: &[u8; 32], table: Arc<FixedBase>) {
        if let Some(known) = self.known.get_mut(key).filter(|known| known.building) {
            known.table = Some(table);
            known.building = false;
        }
    }

    /// A slot for `key`'s table: a free one, or the one of the holder that
    /// was looked up least since the last decision, if fewer than
    /// `table_after_uses` times (a signer that stopped signing gives way).
    /// Either way a decision at full starts a new count for every key, so the
    /// next one comes after another `table_after_uses` look-ups of some key.
    fn make_room(&mut self, key: &[u8; 32]) -> bool {
        let holders = self.known.values().filter(|k| k.holds_slot()).count();
        assert!(holders <= self.tables_max, "tables stay within their limit");
        let room = holders < self.tables_max || self.evict_idlest();
        if holders == self.tables_max {
            self.known.values_mut().for_each(|known| known.uses = 0);
        }
        if room {
            let known = self.known.get_mut(key).expect("the key just found");
            known.building = true;
        }
        room
    }

    /// Frees the slot of the holder looked up least, if it was looked up fewer
    /// than `table_after_uses` times.
    fn evict_idlest(&mut self) -> bool {
        let after_uses = self.table_after_uses;
        let idlest = (self.known.values_mut())
            .filter(|known| known.holds_slot())
            .min_by_key(|known| known.uses)
            .filter(|known| known.uses < after_uses);
        let Some(idlest) = idlest else {
            return false;
        };
        idlest.table = None;
        idlest.building = false;
        true
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.known.len()
    }

    #[cfg(test)]
    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.known.contains_key(key)
    }

    /// Keys holding a table.
    #[cfg(test)]
    pub fn tables(&self) -> usize {
        self.known.values().filter(|k| k.table.is_some()).count()
    }

    #[cfg(test)]
    pub fn has_table(&self, key: &[u8; 32]) -> bool {
        self.known.get(key).is_some_and(|k| k.table.is_some())
    }

    /// Counts checks whose product came from tables: what tests (and figures)
    /// can see of the tables being used.
    pub fn count_tabled(&mut self, checks: usize) {
        self.tabled_checks += checks as u64;
    }

    #[cfg(test)]
    pub fn tabled_checks(&self) -> u64 {
        self.tabled_checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> [u8; 32] {
        [i; 32]
    }

    /// `uses` look-ups of `key`; whether the last one asked for a build.
    fn look_up(cache: &mut KeyCache, key: &[u8; 32], uses: u32) -> bool {
        (0..uses).fold(false, |_, _| cache.find(key).expect("a known key").build)
    }

    /// A key earns a table on its `table_after_uses`-th look-up, once; the
    /// tables stay within their limit; at full, a holder that kept signing
    /// keeps its table and one that stopped gives way.
    #[test]
    fn a_signer_earns_a_table_and_an_idle_one_gives_way() {
        let table = Arc::new(FixedBase::new(&EdwardsPoint::default()));
        let mut cache = KeyCache::new(2, 3);
        for i in 0..4 {
            cache.remember(&key(i), EdwardsPoint::default());
        }
        assert!(
            !look_up(&mut cache, &key(0), 2),
            "two look-ups earn nothing"
        );
        assert!(look_up(&mut cache, &key(0), 1), "the third earns a table");
        assert!(!look_up(&mut cache, &key(0), 5), "one build per table");
        cache.install(&key(0), table.clone());
        assert!(look_up(&mut cache, &key(1), 3));
        cache.install(&key(1), table.clone());
        assert_eq!(cache.tables(), 2);
        // Full, and both holders were looked up at least 3 times: key 2 waits,
        // and every count starts again.
        assert!(!look_up(&mut cache, &key(2), 3));
        assert_eq!(cache.tables(), 2);
        // Key 0 keeps signing, key 1 has stopped: key 1 gives way to key 2.
        look_up(&mut cache, &key(0), 3);
        assert!(look_up(&mut cache, &key(2), 3));
        assert!(cache.has_table(&key(0)) && !cache.has_table(&key(1)));
        cache.install(&key(2), table.clone());
        assert!(cache.has_table(&key(2)) && cache.tables() == 2);
        // A table for a key that gave up its slot meanwhile is dropped.
        cache.install(&key(1), table);
        assert!(!cache.has_table(&key(1)));
        let found = cache.find(&key(0)).expect("a known key");
        assert!(found.table.is_some() && !found.build);
    }

    /// Filling the cache with new keys empties it, tables included; a table
    /// built for a key that left is dropped.
    #[test]
    fn emptying_the_cache_drops_its_tables() {
        let mut cache = KeyCache::new(1, 1);
        cache.remember(&key(0), EdwardsPoint::default());
        assert!(look_up(&mut cache, &key(0), 1));
        for i in 0..KEYS_CACHED_MAX as u32 {
            let mut other = [0xEE; 32];
            other[..4].copy_from_slice(&i.to_le_bytes());
            cache.remember(&other, EdwardsPoint::default());
        }
        assert!(!cache.contains(&key(0)) && cache.len() <= KEYS_CACHED_MAX);
        cache.install(&key(0), Arc::new(FixedBase::new(&EdwardsPoint::default())));
        assert_eq!(cache.tables(), 0);
    }

    /// With the process's limits, a signer's checks move to a table after
    /// [`TABLE_AFTER_USES`] look-ups, and stay exact.
    #[test]
    fn a_frequent_signer_is_checked_with_a_table_at_the_default_limits() {
        use ed25519_dalek::{Signer, SigningKey};
        let keys = Mutex::new(KeyCache::new(TABLES_MAX, TABLE_AFTER_USES));
        let secret = SigningKey::from_bytes(&[7; 32]);
        let signer = secret.verifying_key().to_bytes();
        for n in 0..TABLE_AFTER_USES + 3 {
            let message = n.to_le_bytes();
            let mut signature = secret.sign(&message).to_bytes();
            let valid = n % 2 == 0;
            if !valid {
                signature[50] ^= 4;
            }
            let verdict = super::super::ed25519::verify_strict_batch_in(
                &keys,
                &[(&signer, &message, &signature)],
            );
            assert_eq!(verdict, [valid], "signature {n}");
        }
        let keys = lock(&keys);
        assert!(keys.has_table(&signer));
        // The first check is of a fresh key; the 256th look-up builds the
        // table and uses it, as do the two after it.
        assert_eq!(
            keys.tabled_checks(),
            3,
            "the last three checks used the table"
        );
    }
}
