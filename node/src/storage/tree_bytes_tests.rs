//! The hand-written tree bytes against serde's, byte for byte.

use super::*;
use crate::storage::smt::{state_root_after, NodeKeyBytes};
use crate::storage::{CacheBudget, Storage, CF_SMT_NODES};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tamga_runtime::state::WriteSet;
use tamga_runtime::types::encoding;

/// jmt's `Child`, field for field, so a test can build nodes with any value
/// in any field (jmt does not export the type).
#[derive(Serialize)]
struct MirrorChild {
    hash: [u8; 32],
    version: u64,
    node_type: MirrorType,
}

#[derive(Serialize)]
enum MirrorType {
    Leaf,
    Internal { leaf_count: u64 },
}

/// jmt's `Node`, its internal node's two structs flattened (bincode writes a
/// struct as its fields one after another, so the bytes are the same). Its
/// size is a test's, not a node's: no boxing.
#[derive(Serialize)]
#[allow(clippy::large_enum_variant)]
enum MirrorNode {
    Null,
    Internal {
        children: [Option<MirrorChild>; 16],
        num_children: u64,
        leaf_count: u64,
    },
    Leaf([u8; 32], [u8; 32]),
}

/// Values whose varint takes 1, 3, 5 and 9 bytes, at each width's edges.
const WIDTHS: [u64; 9] = [
    0,
    1,
    250,
    251,
    65_535,
    65_536,
    u32::MAX as u64,
    u32::MAX as u64 + 1,
    u64::MAX,
];

fn random_internal(rng: &mut impl Rng) -> MirrorNode {
    let mut children: [Option<MirrorChild>; 16] = Default::default();
    let mut num_children = 0;
    for slot in children.iter_mut() {
        if rng.gen_bool(0.5) {
            continue;
        }
        let node_type = match rng.gen_bool(0.5) {
            true => MirrorType::Leaf,
            false => MirrorType::Internal {
                leaf_count: WIDTHS[rng.gen_range(0..WIDTHS.len())],
            },
        };
        let version = WIDTHS[rng.gen_range(0..WIDTHS.len())];
        *slot = Some(MirrorChild {
            hash: rng.gen(),
            version,
            node_type,
        });
        num_children += 1;
    }
    if num_children == 0 {
        children[15] = Some(MirrorChild {
            hash: rng.gen(),
            version: 7,
            node_type: MirrorType::Internal { leaf_count: 2 },
        });
        num_children = 1;
    }
    let leaf_count = WIDTHS[rng.gen_range(0..WIDTHS.len())];
    MirrorNode::Internal {
        children,
        num_children,
        leaf_count,
    }
}

/// Nodes built from serde's bytes with every field at every varint width,
/// children in every slot, and leaves and the null node: the hand-written
/// bytes are serde's, and the bytes the node was read from.
#[test]
fn a_node_encodes_as_serde_encodes_it_at_every_width() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut mirrors = vec![MirrorNode::Null, MirrorNode::Leaf(rng.gen(), rng.gen())];
    mirrors.extend((0..2_000).map(|_| random_internal(&mut rng)));
    mirrors.push(widest());
    for mirror in &mirrors {
        let bytes = encoding::encode_serde(mirror);
        let node: Node = encoding::decode_serde(&bytes).expect("the mirror is jmt's layout");
        let hand = node_bytes(&node);
        assert_eq!(hand, bytes, "{node:?}");
        assert_eq!(hand, encoding::encode_serde(&node), "{node:?}");
        assert!(hand.len() <= NODE_BYTES_MAX, "{} bytes", hand.len());
    }
}

/// An internal node of 16 internal children with every count and version
/// at its widest: [`NODE_BYTES_MAX`] exactly.
fn widest() -> MirrorNode {
    MirrorNode::Internal {
        children: std::array::from_fn(|_| {
            Some(MirrorChild {
                hash: [0xff; 32],
                version: u64::MAX,
                node_type: MirrorType::Internal {
                    leaf_count: u64::MAX,
                },
            })
        }),
        num_children: 16,
        leaf_count: u64::MAX,
    }
}

#[test]
fn the_widest_node_fills_the_buffer_exactly() {
    let node: Node = encoding::decode_serde(&encoding::encode_serde(&widest())).unwrap();
    assert_eq!(node_bytes(&node).len(), NODE_BYTES_MAX);
}

/// Paths of 0 to 64 nibbles, odd and even, with random nibbles.
#[test]
fn a_path_encodes_as_serde_encodes_it() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for nibbles in 0..=PATH_NIBBLES_MAX {
        for _ in 0..20 {
            let mut bytes: Vec<u8> = (0..nibbles.div_ceil(2)).map(|_| rng.gen()).collect();
            if let (1, Some(last)) = (nibbles % 2, bytes.last_mut()) {
                *last &= 0xf0;
            }
            let path = test_path(nibbles, bytes);
            let mut hand = [0xAA; PATH_BYTES_MAX];
            let written = encode_path_into(&path, &mut hand);
            assert_eq!(hand[..written], encoding::encode_serde(&path), "{path:?}");
        }
    }
}

/// A node key's inline bytes (the node cache's key) are the version and
/// serde's path, and tell keys apart exactly as the keys do: random paths of
/// 0 to 64 nibbles at small and large versions, each beside the same path one
/// version over, and beside its path one nibble shorter (whose packed bytes
/// are the same when the dropped nibble is 0, as here at three of the five
/// versions). Equal inline bytes hash equally by construction: the hash reads
/// only the bytes the equality compares.
#[test]
fn a_node_keys_inline_bytes_tell_keys_apart_as_the_keys_do() {
    use jmt::storage::NodeKey;
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let packed = |nibbles: &[u8]| -> NibblePath {
        let mut bytes = vec![0u8; nibbles.len().div_ceil(2)];
        for (i, n) in nibbles.iter().enumerate() {
            bytes[i / 2] |= n << if i % 2 == 0 { 4 } else { 0 };
        }
        test_path(nibbles.len(), bytes)
    };
    let mut keys = vec![];
    for len in 0..=PATH_NIBBLES_MAX {
        for version in [0u64, 1, 250, 70_000, u64::MAX] {
            let mut nibbles: Vec<u8> = (0..len).map(|_| rng.gen_range(0..16)).collect();
            if let (0, Some(last)) = (version % 2, nibbles.last_mut()) {
                *last = 0;
            }
            let key = NodeKey::new(version, packed(&nibbles));
            let mut serde_key = version.to_be_bytes().to_vec();
            serde_key.extend(encoding::encode_serde(key.nibble_path()));
            assert_eq!(NodeKeyBytes::of(&key).as_bytes(), serde_key, "{key:?}");
            keys.push(NodeKey::new(version ^ 1, key.nibble_path().clone()));
            if let Some((_, shorter)) = nibbles.split_last() {
                keys.push(NodeKey::new(version, packed(shorter)));
            }
            keys.push(key);
        }
    }
    for a in &keys {
        for b in &keys {
            let (inline_a, inline_b) = (NodeKeyBytes::of(a), NodeKeyBytes::of(b));
            assert_eq!(inline_a == inline_b, a == b, "{a:?} against {b:?}");
        }
    }
}

/// A stored tree over 253 versions (so children's versions take one byte and
/// three, and the root's leaf count three): every node a commit writes is
/// serde's bytes, under the key serde's path gives, and reads back as itself.
#[test]
fn a_commit_stores_every_tree_node_as_serde_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    let write = |keys: std::ops::Range<u32>, salt: u8| -> WriteSet {
        (keys.map(|i| (i.to_be_bytes().to_vec(), Some(vec![salt; 8])))).collect()
    };
    let mut nodes_checked = 0;
    for version in 0..=252u64 {
        let set = match version {
            0 => write(0..3_000, 0),
            _ => write(version as u32 * 11..version as u32 * 11 + 2, version as u8),
        };
        let (_, tree) = state_root_after(&storage, version, &set).unwrap();
        let mut batch = rocksdb::WriteBatch::default();
        storage.put_state(&mut batch, &set, &tree);
        storage.write(batch).unwrap();
        for (key, node) in tree.node_batch.nodes() {
            let mut serde_key = key.version().to_be_bytes().to_vec();
            serde_key.extend(encoding::encode_serde(key.nibble_path()));
            assert_eq!(NodeKeyBytes::of(key).as_bytes(), serde_key);
            let stored = storage.get_raw(CF_SMT_NODES, &serde_key).unwrap();
            let stored = stored.expect("the commit wrote the node");
            assert_eq!(stored, encoding::encode_serde(node), "{key:?}");
            assert_eq!(&encoding::decode_serde::<Node>(&stored).unwrap(), node);
            nodes_checked += 1;
        }
        storage.cache_committed(&set, &tree);
    }
    assert!(nodes_checked > 3_000, "{nodes_checked} nodes");
}
