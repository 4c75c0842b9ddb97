//! The signers' keys this process has seen verify a signature: decompressed
//! once, and for the few that sign most, a fixed-base table
//! ([`super::ed25519_table`]) that halves the cost of their checks. A
//! registry's transactions come mostly from a few signers (registrars,
//! notaries, an operator's key), and a node checks every transaction.
//!
//! Every limit holds against a stranger who signs with as many keys as they
//! like:
//! - at most [`KEYS_CACHED_MAX`] keys, each one that has verified a signature
//!   (then the cache is emptied and refilled, tables and all);
//! - at most [`TABLES_MAX`] keys hold a table slot, and beyond them at most
//!   one table per checking thread lives on, being built for a slot lost
//!   meanwhile, or in use by a check when its slot went;
//! - a key earns a slot when it has been looked up [`TABLE_AFTER_USES`] times
//!   in one round, counting one look-up per signature that gets a product
//!   (a canonical `s`), refused ones too (their product costs what an
//!   accepted one's does). A batch looks each key up once, counting all of
//!   its signatures that get a product, so a batch of 256 or more from one
//!   signer builds the table before checking them (for a key the cache lacks
//!   with 257 or more, after its first signature, compared at once at the
//!   cost of one more compression, shows that the key signs). A round ends
//!   at each decision taken with every slot held, so each build (about 1 ms,
//!   some 35 checks) is paid for by 256 look-ups of its key that paid for no
//!   other: at most one build per 256 products, and a decision looks at the
//!   16 holders only. A stranger adds at most about 1/7 to the cost of the
//!   checks they send.
//!
//! None of this changes a verdict: a check with a table computes the same
//! point. A build runs on the checking thread that earned it, so that
//! thread's batch waits about 1 ms, at most once per 256 look-ups.

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
    /// Look-ups in round `round` (see [`KeyCache::make_room`]).
    uses: u32,
    /// The round `uses` counts in; an earlier one means none in this round.
    round: u64,
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
    /// The keys holding a slot (a table, or one being built), so a decision
    /// looks at no more than `tables_max` entries.
    holders: Vec<[u8; 32]>,
    /// Look-ups are counted per round; a round ends at each decision taken
    /// with every slot held (see [`KeyCache::make_room`]).
    round: u64,
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
            holders: Vec::with_capacity(tables_max),
            round: 0,
            tables_max,
            table_after_uses,
            tabled_checks: 0,
        }
    }

    /// A known key, counting `uses` look-ups: the signatures of it with a
    /// canonical `s` a batch is about to check (whatever their verdicts turn
    /// out to be); `build` when it has just earned a table.
    pub fn find(&mut self, key: &[u8; 32], uses: u32) -> Option<Found> {
        assert!(uses > 0, "a look-up is for at least one signature");
        let round = self.round;
        let known = self.known.get_mut(key)?;
        if known.round != round {
            known.round = round;
            known.uses = 0;
        }
        known.uses = known.uses.saturating_add(uses);
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
        // Known already (two batches raced on a new key): a full cache must
        // not be emptied for it.
        if self.known.contains_key(key) {
            return;
        }
        if self.known.len() >= KEYS_CACHED_MAX {
            self.known.clear();
            self.holders.clear();
        }
        self.known.entry(*key).or_insert(Known {
            minus_a,
            uses: 0,
            round: self.round,
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

    /// A slot for `key`'s table: a free one, or the one of the holder looked
    /// up least in this round, if fewer than `table_after_uses` times (a
    /// signer that stopped signing gives way). A decision taken with every
    /// slot held ends the round, so the next such decision comes only after
    /// some key is looked up `table_after_uses` times more.
    fn make_room(&mut self, key: &[u8; 32]) -> bool {
        assert!(
            self.holders.len() <= self.tables_max,
            "tables stay within their limit"
        );
        let full = self.holders.len() == self.tables_max;
        let room = !full || self.evict_idlest();
        if full {
            self.round += 1;
        }
        if room {
            let known = self.known.get_mut(key).expect("the key just found");
            known.building = true;
            self.holders.push(*key);
        }
        room
    }

    /// Frees the slot of the holder looked up least in this round, if it was
    /// looked up fewer than `table_after_uses` times.
    fn evict_idlest(&mut self) -> bool {
        let idlest = (self.holders.iter().enumerate())
            .map(|(at, key)| (self.uses_this_round(key), at))
            .min()
            .filter(|(uses, _)| *uses < self.table_after_uses);
        let Some((_, at)) = idlest else {
            return false;
        };
        let key = self.holders.swap_remove(at);
        if let Some(known) = self.known.get_mut(&key) {
            known.table = None;
            known.building = false;
        }
        true
    }

    fn uses_this_round(&self, key: &[u8; 32]) -> u32 {
        (self.known.get(key))
            .filter(|known| known.round == self.round)
            .map_or(0, |known| known.uses)
    }

    /// Look-ups that earn a key a table.
    pub fn table_after_uses(&self) -> u32 {
        self.table_after_uses
    }

    /// Counts checks whose product came from tables: what tests can see of
    /// the tables being used (one lock per batch that used any).
    pub fn count_tabled(&mut self, checks: usize) {
        self.tabled_checks += checks as u64;
    }

    /// The holders list names exactly the keys holding a slot, within the
    /// limit.
    #[cfg(test)]
    fn assert_consistent(&self) {
        let mut holding: Vec<[u8; 32]> = (self.known.iter())
            .filter(|(_, known)| known.holds_slot())
            .map(|(key, _)| *key)
            .collect();
        let mut holders = self.holders.clone();
        holding.sort();
        holders.sort();
        assert_eq!(holding, holders);
        assert!(holders.len() <= self.tables_max);
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
        let build = (0..uses).fold(false, |_, _| cache.find(key, 1).expect("a known key").build);
        cache.assert_consistent();
        build
    }

    fn a_table() -> Arc<FixedBase> {
        Arc::new(FixedBase::new(&EdwardsPoint::default()))
    }

    /// A key earns a table on its `table_after_uses`-th look-up, once; the
    /// tables stay within their limit; at full, a holder that kept signing
    /// keeps its table and one that stopped gives way.
    #[test]
    fn a_signer_earns_a_table_and_an_idle_one_gives_way() {
        let table = a_table();
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
        // and the round ends.
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
        cache.assert_consistent();
        let found = cache.find(&key(0), 1).expect("a known key");
        assert!(found.table.is_some() && !found.build);
    }

    /// A slot whose table is still being built counts against the limit, and
    /// its holder can give it up before the build ends: the build is dropped.
    #[test]
    fn a_table_being_built_holds_a_slot_and_can_lose_it() {
        let mut cache = KeyCache::new(1, 2);
        for i in 0..3 {
            cache.remember(&key(i), EdwardsPoint::default());
        }
        assert!(look_up(&mut cache, &key(0), 2), "key 0 builds");
        assert!(
            !look_up(&mut cache, &key(1), 2),
            "no slot while key 0 builds"
        );
        // A new round: key 0 is not looked up while its table is built.
        assert!(look_up(&mut cache, &key(1), 2), "key 0 gives way");
        cache.install(&key(0), a_table());
        assert!(
            !cache.has_table(&key(0)),
            "a build for a lost slot is dropped"
        );
        cache.install(&key(1), a_table());
        assert!(cache.has_table(&key(1)) && cache.tables() == 1);
        cache.assert_consistent();
    }

    /// Filling the cache with new keys empties it, tables included; a table
    /// built for a key that left is dropped.
    #[test]
    fn emptying_the_cache_drops_its_tables() {
        let mut cache = KeyCache::new(2, 1);
        for i in 0..2 {
            cache.remember(&key(i), EdwardsPoint::default());
            assert!(look_up(&mut cache, &key(i), 1));
        }
        cache.install(&key(0), a_table());
        assert_eq!(cache.tables(), 1, "key 0's table is in, key 1's building");
        for i in 0..KEYS_CACHED_MAX as u32 {
            let mut other = [0xEE; 32];
            other[..4].copy_from_slice(&i.to_le_bytes());
            cache.remember(&other, EdwardsPoint::default());
        }
        assert!(!cache.contains(&key(0)) && cache.len() <= KEYS_CACHED_MAX);
        assert_eq!(cache.tables(), 0, "the installed table went too");
        cache.install(&key(1), a_table());
        assert_eq!(cache.tables(), 0, "a build for a key that left is dropped");
        cache.assert_consistent();
    }

    /// Remembering a key the cache holds (two batches that both found it new)
    /// leaves a full cache as it is.
    #[test]
    fn remembering_a_known_key_again_keeps_a_full_cache() {
        let mut cache = KeyCache::new(1, 1);
        for i in 0..KEYS_CACHED_MAX as u32 {
            let mut other = [0xDD; 32];
            other[..4].copy_from_slice(&i.to_le_bytes());
            cache.remember(&other, EdwardsPoint::default());
        }
        assert_eq!(cache.len(), KEYS_CACHED_MAX);
        let mut first = [0xDD; 32];
        first[..4].copy_from_slice(&0u32.to_le_bytes());
        cache.remember(&first, EdwardsPoint::default());
        assert_eq!(cache.len(), KEYS_CACHED_MAX, "nothing was emptied");
    }

    /// The cache every check uses has the stated limits.
    #[test]
    fn the_process_cache_has_the_stated_limits() {
        let cache = lock(global());
        assert_eq!(cache.tables_max, TABLES_MAX);
        assert_eq!(cache.table_after_uses, TABLE_AFTER_USES);
    }

    /// Forges a signature whose `s` stays canonical.
    fn flip_a_bit(signature: &mut [u8; 64]) {
        signature[40] ^= 2;
    }

    /// Forges a signature whose `s` is past ℓ (refused before its product).
    fn s_past_l(signature: &mut [u8; 64]) {
        signature[63] |= 0xF0;
    }

    /// `count` signatures of `secret`'s key over distinct messages, those at
    /// the indexes in `forged` forged with `forge`, checked in one batch with
    /// `keys`; each verdict must be dalek's. Returns the checks that used a
    /// table.
    fn one_batch(
        keys: &Mutex<KeyCache>,
        secret: &ed25519_dalek::SigningKey,
        count: u32,
        (forged, forge): (&[u32], fn(&mut [u8; 64])),
    ) -> u64 {
        use ed25519_dalek::Signer;
        let key = secret.verifying_key().to_bytes();
        let messages: Vec<[u8; 4]> = (0..count).map(|n| n.to_le_bytes()).collect();
        let signatures: Vec<[u8; 64]> = (messages.iter().enumerate())
            .map(|(n, message)| {
                let mut signature = secret.sign(message).to_bytes();
                if forged.contains(&(n as u32)) {
                    forge(&mut signature);
                }
                signature
            })
            .collect();
        let cases: Vec<_> = (messages.iter().zip(&signatures))
            .map(|(message, signature)| (&key, &message[..], signature))
            .collect();
        let before = lock(keys).tabled_checks();
        let verdicts = super::super::ed25519::verify_strict_batch_in(keys, &cases);
        let expected: Vec<bool> = (0..count).map(|n| !forged.contains(&n)).collect();
        assert_eq!(verdicts, expected, "each verdict is dalek's");
        lock(keys).tabled_checks() - before
    }

    /// A batch counts all its signatures of a key at once: a new signer's
    /// batch of [`TABLE_AFTER_USES`] or more is checked with its table after
    /// the first signature (which shows the key signs), and a known signer's
    /// from its first. If the first does not hold, the key stays new for the
    /// batch, and is kept after it if another held.
    #[test]
    fn a_batch_of_one_signers_many_signatures_earns_the_table_before_checking_them() {
        let uses = TABLE_AFTER_USES;
        let new_signer = |seed: u8| {
            let keys = Mutex::new(KeyCache::new(TABLES_MAX, uses));
            (keys, ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
        };
        let (keys, secret) = new_signer(11);
        let tabled = one_batch(&keys, &secret, uses + 1, (&[7, 100], flip_a_bit));
        assert_eq!(tabled, u64::from(uses), "all but the first");
        assert!(lock(&keys).has_table(&secret.verifying_key().to_bytes()));

        let (keys, secret) = new_signer(12);
        let tabled = one_batch(&keys, &secret, uses + 1, (&[0], flip_a_bit));
        assert_eq!(tabled, 0, "the first did not hold: no key yet");
        let key = secret.verifying_key().to_bytes();
        assert!(lock(&keys).contains(&key) && !lock(&keys).has_table(&key));
        let tabled = one_batch(&keys, &secret, uses, (&[3], flip_a_bit));
        assert_eq!(tabled, u64::from(uses), "known: all of them");

        let (keys, secret) = new_signer(13);
        let tabled = one_batch(&keys, &secret, uses - 1, (&[], flip_a_bit));
        assert_eq!(tabled, 0, "too few");
        let key = secret.verifying_key().to_bytes();
        assert!(lock(&keys).contains(&key) && !lock(&keys).has_table(&key));
        lock(&keys).assert_consistent();
    }

    /// Signatures refused before their product (an `s` past ℓ costs next to
    /// nothing to refuse) do not count towards a table: a stranger cannot
    /// earn a 1 ms build with them.
    #[test]
    fn signatures_refused_before_their_product_earn_no_table() {
        let keys = Mutex::new(KeyCache::new(TABLES_MAX, TABLE_AFTER_USES));
        let secret = ed25519_dalek::SigningKey::from_bytes(&[14; 32]);
        one_batch(&keys, &secret, 1, (&[], flip_a_bit));
        let past_l: Vec<u32> = (1..=TABLE_AFTER_USES).collect();
        one_batch(&keys, &secret, TABLE_AFTER_USES + 1, (&past_l, s_past_l));
        let key = secret.verifying_key().to_bytes();
        assert!(lock(&keys).contains(&key) && !lock(&keys).has_table(&key));
        // The same count with canonical forgeries, each a product: a table.
        let forged: Vec<u32> = (1..TABLE_AFTER_USES).collect();
        one_batch(&keys, &secret, TABLE_AFTER_USES, (&forged, flip_a_bit));
        assert!(lock(&keys).has_table(&key));
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
