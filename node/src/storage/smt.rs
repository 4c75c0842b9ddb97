//! The authenticated state: a Jellyfish Merkle tree (crate `jmt`) over blake3, one
//! tree version per block height. Its root goes into the block header, so a header
//! plus its commit proves any state value (Art. 62 proofs build on this).
//!
//! Values are stored by (key hash, version) so the tree can be read at any height.

use super::{decode_stored_serde, tree_bytes, Storage, StorageError, CF_SMT_NODES, CF_SMT_VALUES};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use tamga_runtime::state::WriteSet;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;

pub use tamga_verify::tree::{key_hash, Blake3Tree};

/// `smt_values` key: key hash then big-endian version, so a reverse seek finds the
/// newest value at or below a version.
pub(crate) fn value_key(key_hash: &KeyHash, version: Version) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(&key_hash.0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// A node key's `smt_nodes` key, held inline: the version big-endian, then
/// the nibble path's canonical encoding (its nibble count and byte count, one
/// byte each, then its bytes). Keys sort as jmt's `NodeKey`s do — version,
/// then the path's length, then its bytes — so each block's nodes sort after
/// every earlier block's: a flushed file of new nodes overlaps no other, and
/// RocksDB moves it between levels instead of merging it. (The whole `NodeKey`
/// in the canonical encoding, used before, puts the version first as a
/// little-endian varint, which put consecutive blocks' nodes far apart from
/// height 251 on, so flushed files overlapped and compactions had to merge and
/// rewrite them.)
///
/// It is also the node cache's key. A `NodeKey` keeps its path's bytes in a
/// heap allocation of their own: as a key of a table of a million entries,
/// comparing one read memory in two places (the table's slot, then the path),
/// and each cached key was one more allocation to make and free. These bytes
/// sit in the slot, and a disk read uses them as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeKeyBytes {
    len: u8,
    bytes: [u8; NODE_KEY_BYTES_MAX],
}

/// A node key's bytes at most: the version, then a path of up to 64 nibbles
/// with its two counts.
pub(crate) const NODE_KEY_BYTES_MAX: usize = 8 + tree_bytes::PATH_BYTES_MAX;

impl NodeKeyBytes {
    pub(crate) fn of(key: &NodeKey) -> Self {
        let mut bytes = [0u8; NODE_KEY_BYTES_MAX];
        bytes[..8].copy_from_slice(&key.version().to_be_bytes());
        let len = 8 + tree_bytes::encode_path_into(key.nibble_path(), &mut bytes[8..]);
        NodeKeyBytes {
            len: len as u8,
            bytes,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The key's bytes only, not the zeros after them: a node below the pinned
/// levels has a path of five or six nibbles, 13 or 14 bytes of 42. Equal keys
/// hash equally: their bytes, and so their lengths, are equal.
impl std::hash::Hash for NodeKeyBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

impl AsRef<[u8]> for NodeKeyBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Storage {
    /// A tree node, through the pinned levels and the node cache. Only `fill`
    /// readers (blocks: state roots) keep what they read from disk; a proof
    /// for a caller does not, so proofs at old heights cannot evict the nodes
    /// blocks need (as RPC reads leave the value cache alone).
    fn tree_node(&self, node_key: &NodeKey, fill: bool) -> anyhow::Result<Option<Node>> {
        if let Some(node) = self.top.get(node_key) {
            return Ok(Some(node));
        }
        let key = NodeKeyBytes::of(node_key);
        let epoch = match self.nodes.get(&key) {
            Ok(node) => return Ok(Some(node)),
            Err(epoch) => epoch,
        };
        let node: Option<Node> = self
            .get_raw(CF_SMT_NODES, key.as_bytes())?
            .map(|bytes| decode_stored_serde(&bytes, "tree node"))
            .transpose()?;
        // Only nodes that exist: an absent key may be written by a later block.
        if let (Some(node), true) = (&node, fill) {
            self.top.offer([(node_key, node)]);
            self.nodes.fill(key, node.clone(), epoch);
        }
        Ok(node)
    }
}

/// The tree as a proof reads it: the same nodes, and nothing it reads from
/// disk is added to the pinned levels or the node cache (see
/// [`Storage::tree_node`]; a hit still refreshes an entry, and RocksDB's block
/// cache still takes the blocks read).
struct ProofReader<'a>(&'a Storage);

impl TreeReader for ProofReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.0.tree_node(node_key, false)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.0.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.0.get_rightmost_leaf()
    }
}

impl TreeReader for Storage {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.tree_node(node_key, true)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_SMT_VALUES));
        iter.seek_for_prev(value_key(&key_hash, max_version));
        iter.status()?;
        match (iter.key(), iter.value()) {
            (Some(key), Some(value)) if key.starts_with(&key_hash.0) => {
                let value: Option<Vec<u8>> =
                    encoding::decode(value).map_err(|e| StorageError::Corrupt {
                        what: "tree value",
                        reason: e.to_string(),
                    })?;
                Ok(value)
            }
            _ => Ok(None),
        }
    }

    /// Only tree restoration (state sync from a snapshot) needs this; Tamga nodes
    /// catch up by replaying blocks instead, so it is refused rather than guessed.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("state-tree restoration is not supported: nodes catch up by replaying blocks")
    }
}

/// A tree node's weight in the node cache: its key's inline bytes, and an
/// internal node boxes 16 child slots of about 64 bytes each; a leaf holds two
/// hashes.
pub(super) fn weigh_node(_key: &NodeKeyBytes, node: &Node) -> usize {
    let node_bytes = match node {
        Node::Internal(_) => 16 * 64,
        Node::Leaf(_) => 96,
        Node::Null => 8,
    };
    std::mem::size_of::<NodeKeyBytes>() + node_bytes
}

/// The state root after applying `writes` as tree version `version`, and the tree
/// nodes to persist with the block. Nothing is written here.
///
/// A block that deletes nothing (the usual case) goes in as one sorted batch: each
/// touched tree node is rebuilt and hashed once per block, instead of once per key
/// under it (the root, once per key). jmt's own tests assert both ways give the
/// same root and the same nodes, and [`tests`] checks it on our stored tree, so
/// nodes that take either path agree.
pub fn state_root_after(
    storage: &Storage,
    version: Version,
    writes: &WriteSet,
) -> Result<(Hash32, TreeUpdateBatch), StorageError> {
    assert!(
        !writes.is_empty(),
        "every block writes at least the chain tip"
    );
    let tree = JellyfishMerkleTree::<_, Blake3Tree>::new(storage);
    let upserts: Option<Vec<(KeyHash, OwnedValue)>> = writes
        .iter()
        .map(|(key, value)| Some((key_hash(key), value.clone()?)))
        .collect();
    let (root, batch) = match upserts {
        Some(upserts) => tree
            .batch_put_value_sets(vec![upserts], None, version)
            .map(|(roots, batch)| (roots[0], batch)),
        None => one_key_at_a_time(&tree, version, writes),
    }
    .map_err(|e| StorageError::Tree(e.to_string()))?;
    Ok((Hash32(root.0), batch))
}

/// The general path, deletions included: one key at a time.
fn one_key_at_a_time(
    tree: &JellyfishMerkleTree<'_, Storage, Blake3Tree>,
    version: Version,
    writes: &WriteSet,
) -> anyhow::Result<(jmt::RootHash, TreeUpdateBatch)> {
    let value_set = writes
        .iter()
        .map(|(key, value)| (key_hash(key), value.clone()));
    tree.put_value_set(value_set, version)
}

/// A value at tree version `version` (the state after that height) with its proof
/// against that version's root, for a certificate (Art. 62).
pub fn prove(
    storage: &Storage,
    key: &[u8],
    version: Version,
) -> Result<tamga_verify::ProvenValue, StorageError> {
    let reader = ProofReader(storage);
    let tree = JellyfishMerkleTree::<_, Blake3Tree>::new(&reader);
    let (value, proof) = tree
        .get_with_proof(key_hash(key), version)
        .map_err(|e| StorageError::Tree(e.to_string()))?;
    Ok(tamga_verify::ProvenValue {
        key: key.to_vec(),
        value,
        proof,
    })
}

/// The value `key` had at tree version `version`, without a proof.
pub fn value_at(
    storage: &Storage,
    key: &[u8],
    version: Version,
) -> Result<Option<Vec<u8>>, StorageError> {
    storage
        .get_value_option(version, key_hash(key))
        .map_err(|e| StorageError::Tree(e.to_string()))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn writes(range: std::ops::Range<u32>, salt: u8) -> WriteSet {
        range
            .map(|i| {
                (
                    i.to_be_bytes().to_vec(),
                    Some(vec![salt; 1 + i as usize % 70]),
                )
            })
            .collect()
    }

    /// The batch path and the one-key-at-a-time path give the same root and the
    /// same nodes, on a tree already stored over several versions.
    #[test]
    fn a_batch_and_key_by_key_agree_on_a_stored_tree() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).unwrap();
        for (version, set) in [writes(0..500, 1), writes(250..900, 2), writes(7..9, 3)]
            .iter()
            .enumerate()
        {
            let version = version as Version;
            let (root, batch) = state_root_after(&storage, version, set).unwrap();
            let tree = JellyfishMerkleTree::<_, Blake3Tree>::new(&storage);
            let (one_by_one, nodes) = one_key_at_a_time(&tree, version, set).unwrap();
            assert_eq!(root.0, one_by_one.0, "version {version}");
            assert_eq!(batch.node_batch, nodes.node_batch, "version {version}");
            let mut db_batch = rocksdb::WriteBatch::default();
            storage.put_state(&mut db_batch, set, &batch);
            storage.write(db_batch).unwrap();
            storage.cache_committed(set, &batch);
        }
    }

    /// `pairs` pairs of keys whose hashes share five nibbles: their leaves and
    /// the nodes above them sit below the pinned levels, in the node cache.
    pub(crate) fn deep_keys(pairs: usize) -> Vec<u32> {
        let mut by_prefix = std::collections::HashMap::<[u8; 3], u32>::new();
        let mut deep = vec![];
        for i in 0u32.. {
            let hash = key_hash(&i.to_be_bytes()).0;
            let prefix = [hash[0], hash[1], hash[2] & 0xf0];
            if let Some(other) = by_prefix.insert(prefix, i) {
                deep.extend([other, i]);
            }
            if deep.len() >= 2 * pairs {
                break;
            }
        }
        deep
    }

    /// `keys` written with `version`'s value as tree version `version`: the
    /// tree's batch, after its write and the caches' update.
    pub(crate) fn commit_version(storage: &Storage, keys: &[u32], version: u8) -> TreeUpdateBatch {
        let set: WriteSet = (keys.iter())
            .map(|i| (i.to_be_bytes().to_vec(), Some(vec![version; 8])))
            .collect();
        let (_, tree) = state_root_after(storage, version.into(), &set).unwrap();
        let mut db_batch = rocksdb::WriteBatch::default();
        storage.put_state(&mut db_batch, &set, &tree);
        storage.write(db_batch).unwrap();
        storage.cache_committed(&set, &tree);
        tree
    }

    /// A proof reads the tree without keeping what it read in the caches: a
    /// caller asking for proofs at old heights cannot evict the nodes blocks
    /// need. A block's read of the same tree does keep them.
    #[test]
    fn a_proof_leaves_the_tree_caches_as_they_were() {
        let deep = deep_keys(4);
        let dir = tempfile::tempdir().unwrap();
        let open = || Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).unwrap();
        let storage = open();
        commit_version(&storage, &deep, 0);
        commit_version(&storage, &deep, 1);
        drop(storage);
        let storage = open();
        for i in &deep {
            let proven = prove(&storage, &i.to_be_bytes(), 0).unwrap();
            assert_eq!(proven.value, Some(vec![0; 8]));
        }
        assert_eq!(storage.nodes.usage().entries, 0, "a proof filled the cache");
        let root = NodeKey::new(0, tree_bytes::test_path(0, vec![]));
        assert!(storage.top.get(&root).is_none(), "a proof pinned the root");
        let set: WriteSet = [(deep[0].to_be_bytes().to_vec(), Some(vec![2]))].into();
        state_root_after(&storage, 2, &set).unwrap();
        assert!(
            storage.nodes.usage().entries > 0,
            "a block's read kept nothing"
        );
    }

    /// A commit takes the tree nodes it made stale out of the node cache and
    /// puts its new ones in, so the cache holds the live tree, not every
    /// version of a path — also after a restart, when the pinned levels'
    /// nodes are read from disk (and cached) once.
    #[test]
    fn a_commit_swaps_its_stale_tree_nodes_for_its_new_ones_in_the_cache() {
        let deep = deep_keys(4);
        let dir = tempfile::tempdir().unwrap();
        let open = || Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).unwrap();
        let mut storage = open();
        let unpinned = |key: &&NodeKey| !crate::storage::top::is_pinned(key);
        let mut stale_unpinned = 0;
        for version in 0..4u8 {
            if version == 2 {
                drop(storage);
                storage = open();
            }
            let tree = commit_version(&storage, &deep, version);
            let stale = tree.stale_node_index_batch.iter().map(|s| &s.node_key);
            for key in stale.filter(unpinned) {
                stale_unpinned += 1;
                let cached = storage.nodes.get(&NodeKeyBytes::of(key));
                assert!(cached.is_err(), "stale {key:?} cached");
            }
            let fresh: Vec<&NodeKey> = tree.node_batch.nodes().keys().filter(unpinned).collect();
            for key in &fresh {
                let cached = storage.nodes.get(&NodeKeyBytes::of(key));
                assert!(cached.is_ok(), "new {key:?} not cached");
            }
            assert_eq!(storage.nodes.usage().entries as usize, fresh.len());
        }
        assert!(
            stale_unpinned >= 16,
            "{stale_unpinned} stale nodes below the pinned levels"
        );
    }

    /// Tree-node keys sort as jmt's `NodeKey`s do — version, then path — over
    /// versions whose canonical varint takes one, three, five and nine bytes and
    /// paths of 0 to 64 nibbles, so each block's nodes sort after every earlier
    /// block's. (The whole `NodeKey` encoded, as before layout 2, fails this:
    /// version 256 then sorts before 255.)
    #[test]
    fn tree_node_keys_sort_by_version_then_path() {
        let path = |nibbles: usize, fill: u8| -> jmt::storage::NibblePath {
            let mut bytes = vec![fill; nibbles.div_ceil(2)];
            if let (1, Some(last)) = (nibbles % 2, bytes.last_mut()) {
                *last &= 0xf0;
            }
            tree_bytes::test_path(nibbles, bytes)
        };
        let versions = [
            0,
            1,
            250,
            251,
            255,
            256,
            257,
            65_535,
            65_536,
            1 << 32,
            u64::MAX,
        ];
        let mut keys = vec![];
        for version in versions {
            for nibbles in [0, 1, 2, 3, 40, 63, 64] {
                for fill in [0x00, 0x1f, 0xf1, 0xff] {
                    keys.push(NodeKey::new(version, path(nibbles, fill)));
                }
            }
        }
        keys.sort();
        keys.dedup();
        let bytes: Vec<NodeKeyBytes> = keys.iter().map(NodeKeyBytes::of).collect();
        for (pair, keys) in bytes.windows(2).zip(keys.windows(2)) {
            assert!(
                pair[0].as_bytes() < pair[1].as_bytes(),
                "{:?} sorts after {:?}",
                keys[0],
                keys[1]
            );
        }
    }

    /// Why a commit writes the tree unsorted: jmt hands a batch's nodes over in
    /// a map ordered by (version, path) and its values by (version, key hash),
    /// all of one version, and the encoded keys keep that order, with and
    /// without deletions (the key-by-key path), at versions whose encoding
    /// takes one byte and three. If either changed, this fails.
    #[test]
    fn a_batch_of_tree_nodes_and_values_is_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).unwrap();
        let many = writes(0..2_000, 1);
        let deleting = |gone: std::ops::Range<u32>| {
            let mut set = writes(0..700, 2);
            set.extend(gone.map(|i| (i.to_be_bytes().to_vec(), None)));
            set
        };
        let (first, second) = (deleting(1_000..1_300), deleting(1_300..1_600));
        let one = writes(5..6, 3);
        for version in 0..=300 {
            let set = match version {
                0 | 300 => &many,
                1 => &first,
                299 => &second,
                _ => &one,
            };
            let (_, tree) = state_root_after(&storage, version, set).unwrap();
            let nodes: Vec<Vec<u8>> = (tree.node_batch.nodes().keys())
                .map(|key| NodeKeyBytes::of(key).as_bytes().to_vec())
                .collect();
            let values: Vec<Vec<u8>> = (tree.node_batch.values().keys())
                .map(|(version, hash)| value_key(hash, *version))
                .collect();
            for (what, keys) in [("nodes", &nodes), ("values", &values)] {
                let sorted = keys.windows(2).all(|w| w[0] < w[1]);
                assert!(sorted, "version {version}: {what} out of key order");
            }
            let mut db_batch = rocksdb::WriteBatch::default();
            storage.put_state(&mut db_batch, set, &tree);
            storage.write(db_batch).unwrap();
        }
    }
}
