//! State access: the node provides a [`StateRead`] view of committed state; execution
//! writes into an [`Overlay`] whose write set the node commits (and hashes into the
//! authenticated state root) atomically with the block.
//!
//! Keys are namespaced byte strings built only by the functions in [`keys`], so the
//! layout lives in one place.

use crate::types::{encoding, Hash32, PublicKey, SubjectId};
use std::collections::{BTreeMap, HashMap};

/// Read access to a state snapshot. Values are canonical encodings.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

/// State bytes that do not decode: the store is corrupt. Execution stops rather than
/// guess, because guessing would fork this node from the others.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("state corrupt at key {key}: {reason}")]
pub struct CorruptState {
    pub key: String,
    pub reason: String,
}

/// Ordered write set: `None` deletes. Ordered so every node hashes it the same way.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Buffered writes over a base view; reads see the buffered writes first.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    writes: WriteSet,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateRead) -> Self {
        Self {
            base,
            writes: WriteSet::new(),
        }
    }

    pub fn put<T: bincode::Encode + serde::Serialize>(&mut self, key: Vec<u8>, value: &T) {
        self.writes.insert(key, Some(encoding::encode(value)));
    }

    pub fn get_typed<T: bincode::Decode<()>>(&self, key: &[u8]) -> Result<Option<T>, CorruptState> {
        get_typed(self, key)
    }

    /// Merges a child overlay's writes (a transaction that succeeded).
    pub fn absorb(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }

    pub fn into_writes(self) -> WriteSet {
        self.writes
    }

    pub fn writes(&self) -> &WriteSet {
        &self.writes
    }
}

impl StateRead for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(value) => value.clone(),
            None => self.base.get(key),
        }
    }
}

/// Writes only ever looked up by key, never listed: the mempool's pending state,
/// as many keys as its transactions write (tens of thousands at its default
/// bound), looked up on every read of every admitted transaction's dry run.
/// A hash map, not a [`WriteSet`]: with no iteration its order cannot reach a
/// block, and B-tree frames (this map's and each transaction's own write
/// set's) were about a quarter of the dry runs' samples in a four-validator
/// profile (2026-12-07, `docs/performance-notes.md`).
pub type PendingWrites = HashMap<Vec<u8>, Option<Vec<u8>>>;

/// A read-only write set stacked on a base view: committed state plus the writes of
/// transactions not yet in a block (the mempool's pending state).
pub struct Stacked<'a> {
    pub base: &'a dyn StateRead,
    pub top: &'a PendingWrites,
}

impl StateRead for Stacked<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.top.get(key) {
            Some(value) => value.clone(),
            None => self.base.get(key),
        }
    }
}

/// Reads and decodes one value.
pub fn get_typed<T: bincode::Decode<()>>(
    state: &dyn StateRead,
    key: &[u8],
) -> Result<Option<T>, CorruptState> {
    let Some(bytes) = state.get(key) else {
        return Ok(None);
    };
    encoding::decode(&bytes)
        .map(Some)
        .map_err(|e| CorruptState {
            key: String::from_utf8_lossy(&key[..key.len().min(8)]).into_owned() + "…",
            reason: e.to_string(),
        })
}

/// An empty state, for genesis and tests.
pub struct EmptyState;

impl StateRead for EmptyState {
    fn get(&self, _key: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// In-memory state, for tests and tools.
impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }
}

/// The state key layout.
pub mod keys {
    use super::*;

    fn key(prefix: &[u8], id: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(prefix.len() + id.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(id);
        key
    }

    /// An account's next nonce.
    pub fn account(who: &PublicKey) -> Vec<u8> {
        key(b"acct/", &who.0)
    }
    pub fn record(id: &Hash32) -> Vec<u8> {
        key(b"rec/", &id.0)
    }
    pub fn class(id: &Hash32) -> Vec<u8> {
        key(b"cls/", &id.0)
    }
    /// A deployment (code hash, terms, arbitration clause).
    pub fn contract(id: &Hash32) -> Vec<u8> {
        key(b"ctr/", &id.0)
    }
    /// Raw Wasm bytes, by code hash.
    pub fn code(hash: &Hash32) -> Vec<u8> {
        key(b"code/", &hash.0)
    }
    pub fn instance(id: &Hash32) -> Vec<u8> {
        key(b"ins/", &id.0)
    }
    /// An instance's own key-value storage, as one bounded map.
    pub fn instance_storage(id: &Hash32) -> Vec<u8> {
        key(b"cst/", &id.0)
    }
    /// A subject of rights (Art. 45).
    pub fn subject(id: &SubjectId) -> Vec<u8> {
        key(b"subj/", &id.0)
    }
    /// A certificate, by id.
    pub fn certificate(id: &Hash32) -> Vec<u8> {
        key(b"cert/", &id.0)
    }
    /// The id of the certificate a public key is bound to (its latest).
    pub fn key_certificate(who: &PublicKey) -> Vec<u8> {
        key(b"kcert/", &who.0)
    }
    /// A digital condominium (Art. 35).
    pub fn condo(id: &Hash32) -> Vec<u8> {
        key(b"condo/", &id.0)
    }
    /// One of a condominium's proposals, by number.
    pub fn condo_proposal(condo: &Hash32, number: u64) -> Vec<u8> {
        key(
            b"cprop/",
            &[condo.0.as_slice(), &number.to_be_bytes()].concat(),
        )
    }
    /// One of a condominium's share offers, by number.
    pub fn condo_offer(condo: &Hash32, number: u64) -> Vec<u8> {
        key(
            b"coffer/",
            &[condo.0.as_slice(), &number.to_be_bytes()].concat(),
        )
    }
    /// The condominium a contract instance governs.
    pub fn condo_of_instance(instance: &Hash32) -> Vec<u8> {
        key(b"cgov/", &instance.0)
    }
    /// The validator set in force and any scheduled change.
    pub fn validators() -> Vec<u8> {
        b"cfg/validators".to_vec()
    }
    /// The hash of the chain's genesis (see `Genesis::hash`).
    pub fn genesis() -> Vec<u8> {
        b"cfg/genesis".to_vec()
    }
    /// The signatures anchored to a document, by the document's blake3 hash.
    pub fn document(hash: &Hash32) -> Vec<u8> {
        key(b"doc/", &hash.0)
    }
    pub fn chain_id() -> Vec<u8> {
        b"cfg/chain_id".to_vec()
    }
    /// Height and time of the last executed block.
    pub fn tip() -> Vec<u8> {
        b"chain/tip".to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_reads_its_writes_then_base() {
        let mut base = BTreeMap::new();
        base.insert(b"a".to_vec(), encoding::encode(&1u64));
        base.insert(b"b".to_vec(), encoding::encode(&2u64));
        let mut overlay = Overlay::new(&base);
        overlay.put(b"a".to_vec(), &10u64);
        let mut child = Overlay::new(&overlay);
        child.put(b"b".to_vec(), &20u64);
        assert_eq!(child.get_typed::<u64>(b"a"), Ok(Some(10)));
        let writes = child.into_writes();
        assert_eq!(
            overlay.get_typed::<u64>(b"b"),
            Ok(Some(2)),
            "child not yet absorbed"
        );
        overlay.absorb(writes);
        assert_eq!(overlay.get_typed::<u64>(b"b"), Ok(Some(20)));
        assert_eq!(overlay.get_typed::<u64>(b"c"), Ok(None));
    }

    #[test]
    fn corrupt_bytes_are_an_error_not_a_panic() {
        let mut base = BTreeMap::new();
        base.insert(b"a".to_vec(), vec![0xff; 3]);
        assert!(get_typed::<String>(&base, b"a").is_err());
    }
}
