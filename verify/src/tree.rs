//! The authenticated state tree's hashing, shared by the node that builds proofs
//! and the verifier that checks them: a Jellyfish Merkle tree (crate `jmt`) over
//! blake3 under Tamga's own domain, keyed by the domain-separated hash of each
//! state key. One place, so the two can never disagree.

use jmt::{KeyHash, SimpleHasher};
use tamga_runtime::types::hashing;

/// blake3 for the tree's internal hashing, under Tamga's own domain.
pub struct Blake3Tree(blake3::Hasher);

impl SimpleHasher for Blake3Tree {
    fn new() -> Self {
        Blake3Tree(hashing::DOMAIN_STATE_TREE.hasher())
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finalize(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// The tree key of a state key.
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash(hashing::hash(&hashing::DOMAIN_STATE_KEY, &[key]).0)
}

/// A proof of one state key's value (or absence) against a state root.
pub type StateProof = jmt::proof::SparseMerkleProof<Blake3Tree>;
