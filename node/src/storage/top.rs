//! The state tree's top levels, pinned in memory: the newest node at every nibble
//! path of at most [`PINNED_NIBBLES`] nibbles (1 + 16 + 256 + 4,096 + 65,536
//! slots). Every block's root walks these levels for each key it writes, and a
//! generational cache cannot keep them: at a million records the fifth level
//! alone is 65,536 internal nodes of about 1 KiB, and each block's new nodes push
//! older ones out, so a random record's path went to RocksDB. Pinned by path,
//! the memory is fixed however large the state grows (about 75 MiB when full),
//! and a path below them costs one or two reads instead of three or four.
//!
//! Correctness: tree nodes never change once written (a `NodeKey` names one node
//! forever), so a slot answers only a look-up of exactly its key and version; a
//! slot holding an older or newer version of the path is a miss, never a wrong
//! answer. A slot only moves to a newer version. A slot is one path's alone
//! (`every_shallow_path_has_its_own_slot_and_deep_ones_have_none`), so it keeps
//! only the version beside the node: the path is the slot's.

use jmt::storage::{Node, NodeKey};
use jmt::Version;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Nibble paths up to this length are pinned.
pub const PINNED_NIBBLES: usize = 4;
/// Slots for every path of 0..=PINNED_NIBBLES nibbles: (16^5 - 1) / 15.
const SLOTS: usize = (16usize.pow(PINNED_NIBBLES as u32 + 1) - 1) / 15;

/// One slot per shallow nibble path: the newest node this node has seen there,
/// with its version.
pub struct TopNodes {
    slots: RwLock<Vec<Option<(Version, Node)>>>,
}

impl Default for TopNodes {
    fn default() -> Self {
        TopNodes {
            slots: RwLock::new(vec![None; SLOTS]),
        }
    }
}

/// The slot of a path of at most [`PINNED_NIBBLES`] nibbles: the paths of each
/// length follow those of the shorter ones, in nibble order.
fn slot(key: &NodeKey) -> Option<usize> {
    let path = key.nibble_path();
    let len = path.num_nibbles();
    if len > PINNED_NIBBLES {
        return None;
    }
    let before = (16usize.pow(len as u32) - 1) / 15;
    let index = (0..len).fold(0usize, |at, i| {
        at * 16 + u8::from(path.get_nibble(i)) as usize
    });
    let slot = before + index;
    assert!(slot < SLOTS, "slot {slot} of a {len}-nibble path");
    Some(slot)
}

/// Whether nodes at `key`'s path are pinned (a commit's new ones always are).
pub fn is_pinned(key: &NodeKey) -> bool {
    slot(key).is_some()
}

impl TopNodes {
    fn read(&self) -> RwLockReadGuard<'_, Vec<Option<(Version, Node)>>> {
        self.slots.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<Option<(Version, Node)>>> {
        self.slots.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The node of exactly `key`, when its path is pinned and holds that version.
    pub fn get(&self, key: &NodeKey) -> Option<Node> {
        let slot = slot(key)?;
        match &self.read()[slot] {
            Some((held, node)) if *held == key.version() => Some(node.clone()),
            _ => None,
        }
    }

    /// Pins the nodes of shallow paths that are at least as new as what their
    /// slots hold (a commit's new nodes, or a node read from disk).
    pub fn offer<'a>(&self, nodes: impl IntoIterator<Item = (&'a NodeKey, &'a Node)>) {
        let shallow: Vec<(usize, &NodeKey, &Node)> = nodes
            .into_iter()
            .filter_map(|(key, node)| Some((slot(key)?, key, node)))
            .collect();
        if shallow.is_empty() {
            return;
        }
        let stale = {
            let slots = self.read();
            shallow.iter().all(
                |(slot, key, _)| matches!(&slots[*slot], Some((held, _)) if *held >= key.version()),
            )
        };
        // Older versions than a slot holds change nothing (proofs do not offer
        // what they read at all: `smt::ProofReader`).
        if stale {
            return;
        }
        let mut slots = self.write();
        for (slot, key, node) in shallow {
            let newer = match &slots[slot] {
                Some((held, _)) => key.version() >= *held,
                None => true,
            };
            if newer {
                slots[slot] = Some((key.version(), node.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::storage::LeafNode;
    use jmt::{KeyHash, ValueHash};
    use tamga_runtime::types::encoding;

    /// A node key from its nibbles, through its serde form (jmt keeps its path
    /// constructors to itself): version, then the path's length and packed bytes.
    fn key(version: u64, nibbles: &[u8]) -> NodeKey {
        let mut bytes = vec![0u8; nibbles.len().div_ceil(2)];
        for (i, n) in nibbles.iter().enumerate() {
            bytes[i / 2] |= n << if i % 2 == 0 { 4 } else { 0 };
        }
        let encoded = encoding::encode(&(version, (nibbles.len() as u64, bytes)));
        encoding::decode_serde(&encoded).expect("a node key")
    }

    fn leaf(byte: u8) -> Node {
        Node::Leaf(LeafNode::new(KeyHash([byte; 32]), ValueHash([byte; 32])))
    }

    #[test]
    fn every_shallow_path_has_its_own_slot_and_deep_ones_have_none() {
        let mut seen = std::collections::HashSet::new();
        for len in 0..=PINNED_NIBBLES {
            for index in 0..16usize.pow(len as u32) {
                let nibbles: Vec<u8> = (0..len)
                    .rev()
                    .map(|i| ((index >> (4 * i)) & 0xf) as u8)
                    .collect();
                assert!(seen.insert(slot(&key(1, &nibbles)).unwrap()));
            }
        }
        assert_eq!(seen.len(), SLOTS);
        assert_eq!(slot(&key(1, &[0; PINNED_NIBBLES + 1])), None);
    }

    #[test]
    fn a_slot_answers_only_its_exact_version_and_never_moves_back() {
        let top = TopNodes::default();
        let (old, new) = (key(3, &[1, 2]), key(5, &[1, 2]));
        top.offer([(&new, &leaf(5))]);
        top.offer([(&old, &leaf(3))]);
        assert_eq!(top.get(&new), Some(leaf(5)));
        assert_eq!(top.get(&old), None, "an older version is a miss");
        assert_eq!(top.get(&key(6, &[1, 2])), None, "so is a newer one");
        let deep = key(5, &[1, 2, 3, 4, 5]);
        top.offer([(&deep, &leaf(9))]);
        assert_eq!(top.get(&deep), None, "deep paths are not pinned");
    }
}
