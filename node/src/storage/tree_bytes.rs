//! The stored bytes of the state tree's nodes and node paths, written by hand.
//!
//! jmt's nodes have no bincode encoding of their own (serde and borsh only),
//! and serde hands a fixed-size array to the encoder one byte at a time: an
//! internal node of the large state is up to 16 hashes, so encoding the tree
//! nodes of a block took about 7 % of the large state's tokio threads (a
//! profile at 1,000,000 records, see docs/performance-notes.md). The
//! functions here write the very bytes `encoding::encode_serde` writes for the
//! same value — bincode 2's standard configuration: varint integers, `u32`
//! variant indexes, an `Option` as a 0 or 1 byte, fixed-size arrays with no
//! length — but each hash in one copy.
//!
//! A node key's bytes must stay exactly what they were: they are the
//! `smt_nodes` keys a data directory already holds, and a node under other
//! bytes is not found. A node's own bytes are read back through serde
//! ([`super::decode_stored_serde`]), so any bytes serde reads would do; they
//! are kept serde's so the stored format stays one format. Neither is hashed,
//! signed or sent to a peer (a state snapshot serves the state's pairs, and the
//! joining node builds its own tree). The tests check both encodings agree on
//! random nodes, on every varint width and on a stored tree.

use jmt::storage::{LeafNode, NibblePath, Node};

/// Nibbles in a full path: 32-byte key hashes, two nibbles a byte.
pub(super) const PATH_NIBBLES_MAX: usize = 64;
/// Bytes of an internal node with all 16 children, each an internal node with
/// the widest varints (9 bytes), plus its tag, its child count (16: one byte)
/// and its leaf count: a buffer this size never grows.
pub(super) const NODE_BYTES_MAX: usize = 1 + 16 * (1 + 32 + 9 + 1 + 9) + 1 + 9;

/// Appends `node`'s stored bytes to `out`.
///
/// An internal node is `Children { children: Box<[Option<Child>; 16]>,
/// num_children }` then its `leaf_count`, in jmt's declaration order. jmt does
/// not export the types of its children, so they are read through the node's
/// public methods and fields here rather than named. `num_children` is
/// private too, so it is counted: jmt's own `insert` and `remove` keep it the
/// number of children, and only a node decoded from a damaged `smt_nodes`
/// value could carry another (its bytes here would then carry the true count;
/// the node's hash does not depend on it).
pub(super) fn encode_node(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Null => put_varint(out, 0),
        Node::Leaf(leaf) => {
            put_varint(out, 2);
            encode_leaf(leaf, out);
        }
        Node::Internal(internal) => {
            put_varint(out, 1);
            let mut slot = 0u8;
            let mut num_children = 0u64;
            for (nibble, child) in internal.children_sorted() {
                let index = u8::from(nibble);
                assert!(index >= slot, "children come in nibble order");
                out.extend(std::iter::repeat_n(0u8, usize::from(index - slot)));
                out.push(1);
                out.extend_from_slice(&child.hash);
                put_varint(out, child.version);
                put_node_type(out, child.is_leaf(), child.leaf_count());
                (slot, num_children) = (index + 1, num_children + 1);
            }
            out.extend(std::iter::repeat_n(0u8, usize::from(16 - slot)));
            put_varint(out, num_children);
            put_varint(out, internal.leaf_count() as u64);
        }
    }
}

/// `node`'s stored bytes in a vector of their own.
pub(super) fn node_bytes(node: &Node) -> Vec<u8> {
    let reserve = match node {
        Node::Internal(_) => NODE_BYTES_MAX,
        Node::Leaf(_) | Node::Null => 1 + 64,
    };
    let mut bytes = Vec::with_capacity(reserve);
    encode_node(node, &mut bytes);
    bytes
}

/// jmt's `NodeType`: `Leaf` (variant 0) or `Internal { leaf_count }` (1).
fn put_node_type(out: &mut Vec<u8>, leaf: bool, leaf_count: usize) {
    if leaf {
        put_varint(out, 0);
    } else {
        put_varint(out, 1);
        put_varint(out, leaf_count as u64);
    }
}

/// A leaf is its key hash and value hash, 32 bytes each. jmt keeps the value
/// hash's getter to itself, so the two arrays come through borsh, which writes
/// a `[u8; 32]` as the same 32 bytes in one copy.
fn encode_leaf(leaf: &LeafNode, out: &mut Vec<u8>) {
    let before = out.len();
    borsh::BorshSerialize::serialize(leaf, out).expect("writing to a Vec cannot fail");
    debug_assert_eq!(out.len() - before, 64, "a leaf is two 32-byte hashes");
}

/// A nibble path's canonical bytes: its nibble count, its byte count, then its
/// bytes, two nibbles a byte, high nibble first, an odd path's last low nibble 0.
/// Written into `out` (at least [`PATH_BYTES_MAX`] long); returns how many.
///
/// Both counts are bincode varints, one byte each: a path has at most 64
/// nibbles, below the varint's first marker (251).
pub(super) fn encode_path_into(path: &NibblePath, out: &mut [u8]) -> usize {
    const _: () = assert!(
        PATH_NIBBLES_MAX <= 250,
        "a path's counts are one-byte varints"
    );
    let nibbles = path.num_nibbles();
    assert!(nibbles <= PATH_NIBBLES_MAX, "a path is at most 64 nibbles");
    let bytes = nibbles.div_ceil(2);
    out[0] = nibbles as u8;
    out[1] = bytes as u8;
    for byte in 0..bytes {
        let high = u8::from(path.get_nibble(2 * byte));
        let low = match 2 * byte + 1 < nibbles {
            true => u8::from(path.get_nibble(2 * byte + 1)),
            false => 0,
        };
        out[2 + byte] = high << 4 | low;
    }
    2 + bytes
}

/// The most bytes [`encode_path_into`] writes: two counts and 32 path bytes.
pub(super) const PATH_BYTES_MAX: usize = 2 + PATH_NIBBLES_MAX / 2;

/// bincode 2's varint: below 251 one byte; else a marker (251, 252, 253) and
/// the value little-endian in 2, 4 or 8 bytes.
fn put_varint(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=250 => out.push(value as u8),
        251..=0xFFFF => {
            out.push(251);
            out.extend_from_slice(&(value as u16).to_le_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(252);
            out.extend_from_slice(&(value as u32).to_le_bytes());
        }
        _ => {
            out.push(253);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// The path of `nibbles` nibbles packed in `bytes` (an odd path's last low
/// nibble 0), for tests: jmt builds paths only from nibbles it is handed.
#[cfg(test)]
pub(crate) fn test_path(nibbles: usize, bytes: Vec<u8>) -> NibblePath {
    use tamga_runtime::types::encoding;
    encoding::decode_serde(&encoding::encode(&(nibbles, bytes))).expect("a canonical path")
}

#[cfg(test)]
#[path = "tree_bytes_tests.rs"]
mod tests;
