//! Restoring a state snapshot into an empty data directory: the joining side of
//! state sync (see `state_sync`). The state arrives in pages and is written as
//! it comes, with the indexes it implies; the tree is built once at the end as
//! the snapshot's tree version, and the chain becomes this node's (genesis, tip)
//! only if the tree's root is the one the verified block committed.
//!
//! Nothing here decides whether a snapshot is true: the joiner verifies the
//! snapshot's block from the genesis alone (`tamga_verify::verify_anchor`), and
//! [`Storage::restore_finish`] refuses a state whose root is not that block's.
//!
//! A restore spans many writes. It marks the directory as restoring first and
//! clears the mark in its last write, which also writes the genesis hash: a
//! node stopped part-way starts no chain on the half-written state
//! ([`Storage::check_not_restoring`]), and the next restore clears it all first.

use super::commit::{pair_key, revocation_key};
use super::snapshot::META_HISTORY_FROM;
use super::*;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use rocksdb::WriteBatch;
use tamga_runtime::records::Record;
use tamga_runtime::state::keys;
use tamga_runtime::types::{Block, Commit};
use tamga_verify::SetChange;

/// Present while a restore is under way (see the module's doc).
const META_RESTORING: &[u8] = b"restoring";

/// Tree nodes and values written per batch at the end of a restore, at most,
/// and the bytes after which a batch is written whatever its count.
const TREE_WRITES_PER_BATCH: usize = 100_000;
const TREE_BATCH_BYTES_MAX: usize = 64 << 20;

/// The most memory decoding one restored record or certificate may claim
/// (for its indexes, before the root check, so from bytes not yet trusted):
/// both take a few hundred bytes (text fields of at most 1 KiB, at most 16
/// encumbrances), so no honest one comes near it.
const INDEXED_DECODE_CLAIM_MAX: usize = 64 << 10;

/// A snapshot's block as the joiner verified it, with what it keeps of the
/// chain below it.
pub struct Anchored<'a> {
    pub genesis_hash: Hash32,
    /// The snapshot's block, whose header names the state root.
    pub block: &'a Block,
    pub commit: &'a Commit,
    /// Every validator-set change from genesis to the block, as verified: kept,
    /// since their blocks are below this node's history and certificates carry them.
    pub set_changes: &'a [SetChange],
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "this data directory already holds a chain: a snapshot is restored only into an empty one"
    )]
    NotEmpty,
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(String),
    #[error("the snapshot's state hashes to root {computed}, not to root {anchored} its block committed: refused, and what was written of it removed")]
    RootMismatch { computed: Hash32, anchored: Hash32 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Storage {
    /// Refuses to start a chain on a directory a restore left part-way.
    pub fn check_not_restoring(&self) -> Result<(), StorageError> {
        match self.get_raw(CF_META, META_RESTORING)? {
            None => Ok(()),
            Some(_) => Err(StorageError::Corrupt {
                what: "data directory",
                reason: "a state sync was stopped part-way: start again with \
                         [state_sync] rpc set to restore a snapshot, or remove the data directory"
                    .into(),
            }),
        }
    }

    /// Starts a restore: refuses a directory that holds a chain, clears what an
    /// earlier restore left, and marks the directory as restoring.
    pub fn restore_begin(&self) -> Result<(), RestoreError> {
        if self.genesis_hash()?.is_some() {
            return Err(RestoreError::NotEmpty);
        }
        self.clear_all()?;
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_META), META_RESTORING, []);
        self.write(batch)?;
        Ok(())
    }

    /// Writes one page of state, in key order, and the indexes it implies:
    /// records by owner, certificates by subject, revocations by the height
    /// they were recorded. Durable only with [`Storage::restore_finish`]. A
    /// record or certificate that does not decode is a lie (the root check
    /// would refuse it later): refused now.
    pub fn restore_page(&self, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<(), RestoreError> {
        let mut batch = WriteBatch::default();
        let record_prefix = &keys::record(&Hash32::default())[..4];
        let cert_prefix = &keys::certificate(&Hash32::default())[..5];
        for (key, value) in pairs {
            batch.put_cf(self.cf(CF_STATE), key, value);
            if key.starts_with(record_prefix) {
                let record: Record = decode_indexed(key, value)?;
                let index_key = pair_key(&record.owner.0, &record.id);
                batch.put_cf(self.cf(CF_IDX_OWNER), index_key, []);
            } else if key.starts_with(cert_prefix) {
                let cert: tamga_runtime::pki::Certificate = decode_indexed(key, value)?;
                let index_key = pair_key(&cert.subject.0, &cert.id);
                batch.put_cf(self.cf(CF_IDX_CERTS), index_key, []);
                if let Some(revocation) = &cert.revocation {
                    let index_key = revocation_key(revocation.recorded_height, &cert.id);
                    batch.put_cf(self.cf(CF_IDX_REVOCATIONS), index_key, []);
                }
            }
        }
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(false);
        self.db
            .write_opt(batch, &options)
            .map_err(StorageError::from)?;
        Ok(())
    }

    /// Ends a restore: the tree of `leaves` (every state value by key hash, as
    /// the pages wrote them) as the block's tree version; if its root is the
    /// block's, the tree, the block and commit, the kept set changes and the
    /// tip, the genesis hash last. Otherwise everything written is cleared.
    pub fn restore_finish(
        &self,
        anchored: &Anchored,
        leaves: Vec<(KeyHash, OwnedValue)>,
    ) -> Result<Tip, RestoreError> {
        anchored.check()?;
        if leaves.is_empty() {
            return Err(RestoreError::Inconsistent("its state is empty".into()));
        }
        let header = &anchored.block.header;
        let reader = EmptyBefore {
            storage: self,
            version: header.height,
        };
        let (roots, tree) = JellyfishMerkleTree::<_, smt::Blake3Tree>::new(&reader)
            .batch_put_value_sets(vec![leaves], None, header.height)
            .map_err(|e| StorageError::Tree(e.to_string()))?;
        let computed = Hash32(roots[0].0);
        if computed != header.state_root {
            self.clear_all()?;
            return Err(RestoreError::RootMismatch {
                computed,
                anchored: header.state_root,
            });
        }
        self.put_tree_in_batches(&tree)?;
        drop(tree);
        let mut batch = WriteBatch::default();
        let tip = self.put_anchor(&mut batch, anchored);
        self.write(batch)?;
        Ok(tip)
    }

    /// The tree's nodes and values, in batches of [`TREE_WRITES_PER_BATCH`].
    fn put_tree_in_batches(&self, tree: &TreeUpdateBatch) -> Result<(), StorageError> {
        let nodes = tree.node_batch.nodes().iter().map(|(key, node)| {
            (
                CF_SMT_NODES,
                smt::NodeKeyBytes::of(key).as_bytes().to_vec(),
                tree_bytes::node_bytes(node),
            )
        });
        let values = (tree.node_batch.values().iter()).map(|((version, hash), value)| {
            (
                CF_SMT_VALUES,
                smt::value_key(hash, *version),
                encoding::encode(value),
            )
        });
        let mut batch = WriteBatch::default();
        for (cf, key, value) in nodes.chain(values) {
            batch.put_cf(self.cf(cf), key, value);
            if batch.len() == TREE_WRITES_PER_BATCH || batch.size_in_bytes() >= TREE_BATCH_BYTES_MAX
            {
                self.db.write(std::mem::take(&mut batch))?;
            }
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// Genesis, layout, the history's start, the block and its commit, the
    /// validator-set changes (each kept whole: its block is not here), the tip;
    /// and the restoring mark cleared.
    fn put_anchor(&self, batch: &mut WriteBatch, anchored: &Anchored) -> Tip {
        let header = &anchored.block.header;
        let meta = self.cf(CF_META);
        batch.put_cf(meta, META_GENESIS, encoding::encode(&anchored.genesis_hash));
        batch.put_cf(meta, META_LAYOUT, encoding::encode(&STORAGE_LAYOUT));
        batch.put_cf(meta, META_HISTORY_FROM, encoding::encode(&header.height));
        batch.delete_cf(meta, META_RESTORING);
        let height_key = header.height.to_be_bytes();
        let block = encoding::encode(anchored.block);
        batch.put_cf(self.cf(CF_BLOCKS), height_key, block);
        let commit = encoding::encode(anchored.commit);
        batch.put_cf(self.cf(CF_COMMITS), height_key, commit);
        for change in anchored.set_changes {
            let key = change.header.height.to_be_bytes();
            let value = encoding::encode_serde(change);
            batch.put_cf(self.cf(CF_IDX_VALSETS), key, value);
        }
        let tip = Tip {
            height: header.height,
            block_hash: anchored.commit.block_hash,
            state_root: header.state_root,
            time_ms: header.time_ms,
        };
        batch.put_cf(meta, META_TIP, encoding::encode(&tip));
        tip
    }

    /// Every key of every column family, removed (a range per family, from its
    /// first key to its last).
    fn clear_all(&self) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        for name in ALL_CFS {
            let mut iter = self.db.raw_iterator_cf(self.cf(name));
            iter.seek_to_first();
            let Some(first) = iter.key().map(<[u8]>::to_vec) else {
                iter.status()?;
                continue;
            };
            iter.seek_to_last();
            let last = iter
                .key()
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| first.clone());
            iter.status()?;
            batch.delete_range_cf(self.cf(name), &first, &last);
            batch.delete_cf(self.cf(name), &last);
        }
        self.write(batch)?;
        Ok(())
    }
}

/// A restored record or certificate, decoded within [`INDEXED_DECODE_CLAIM_MAX`].
fn decode_indexed<T: encoding::Decode<()>>(key: &[u8], value: &[u8]) -> Result<T, RestoreError> {
    encoding::decode_within::<INDEXED_DECODE_CLAIM_MAX, T>(value).map_err(|e| {
        RestoreError::Inconsistent(format!(
            "the value at key {} does not decode: {e}",
            hex::encode(key)
        ))
    })
}

impl Anchored<'_> {
    /// The block, its commit and the set changes agree (checked before any
    /// page is fetched, and again before the chain is written).
    pub fn check(&self) -> Result<(), RestoreError> {
        check_restorable(self)
    }
}

/// The block, its commit and the set changes agree.
fn check_restorable(anchored: &Anchored) -> Result<(), RestoreError> {
    let header = &anchored.block.header;
    let inconsistent = |what: String| Err(RestoreError::Inconsistent(what));
    if header.height == 0 {
        return inconsistent("height 0 is the genesis, which a node writes itself".into());
    }
    if anchored.commit.height != header.height || anchored.commit.block_hash != header.hash() {
        return inconsistent(format!(
            "the commit certificate is for height {} block {}, not the block at {} ({})",
            anchored.commit.height,
            anchored.commit.block_hash,
            header.height,
            header.hash()
        ));
    }
    let above = anchored
        .set_changes
        .iter()
        .find(|c| c.header.height > header.height);
    if let Some(change) = above {
        return inconsistent(format!(
            "a validator-set change at height {} is above the snapshot",
            change.header.height
        ));
    }
    Ok(())
}

/// The stored tree, and an empty tree as the version before `version`: a
/// restored state is written as one batch on nothing, at its block's height.
struct EmptyBefore<'a> {
    storage: &'a Storage,
    version: Version,
}

impl TreeReader for EmptyBefore<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let root_before = node_key.version() == self.version - 1;
        if root_before && node_key.nibble_path().num_nibbles() == 0 {
            return Ok(Some(Node::Null));
        }
        self.storage.get_node_option(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.storage.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.storage.get_rightmost_leaf()
    }
}
