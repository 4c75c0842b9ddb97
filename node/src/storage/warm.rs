//! Warming the node's own caches when it starts. A restarted node's caches are
//! empty, and until a block touches a key its state value and the tree nodes
//! on its path are read from RocksDB: each transaction's first touch costs
//! disk reads in execution and in the state root. In a registry most records
//! are touched rarely, so that lasts: restarted, a four-validator benchmark's
//! validators spent 1.6–2.5 times the CPU per transfer in the state root that
//! they spent before (README, "Where the time goes").
//!
//! So a node reads its state tree and its state values into the caches on a
//! thread of its own as it starts, in bounded batches, until each cache holds
//! [`FILL_EIGHTHS`] of its budget or all of it is read. The caches' rules
//! hold as for any read (see [`super::cache`]): a batch is cached only if no
//! commit happened since it began, and values are read after that point (a
//! fresh iterator per batch, so never from before a commit that changed
//! them). Tree nodes never change once written; a batch that raced a commit
//! is not cached (it may hold nodes that commit made stale), and its children
//! are walked all the same.

use super::{decode_stored_serde, top, Storage, StorageError, CF_SMT_NODES, CF_STATE};
use jmt::storage::{Node, NodeKey};
use jmt::Version;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// Entries read per batch (one `multi_get`, or one iterator's run): the
/// unit between two looks at the stop flag and the caches' epochs.
const BATCH_ENTRIES: usize = 1024;
/// A cache is warmed until it holds this many eighths of its budget, so the
/// warm-up never turns over what it put in itself, and blocks have room.
const FILL_EIGHTHS: usize = 7;
/// Times a batch is read again after it raced a commit, before it is left out.
const RACED_RETRIES_MAX: usize = 3;

/// What a warm-up read into the caches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Warmed {
    /// Tree nodes read (pinned or cached).
    pub tree_nodes: u64,
    /// State values cached.
    pub state_values: u64,
    /// Live children the tree's nodes name that were not on disk.
    pub nodes_missing: u64,
    /// Whether both were read whole (not stopped by a budget or the node).
    pub complete: bool,
}

/// State values as keys and values, in key order.
type StateEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// One batch of state values cached.
struct ValueBatch {
    /// The last key read; `None` past the end.
    last: Option<Vec<u8>>,
    /// How many went into the cache.
    kept: u64,
    /// Whether all of them did (the cache is not at its share).
    whole: bool,
}

/// How one cache's warm-up ended.
struct Pass {
    entries: u64,
    complete: bool,
}

impl Pass {
    /// Stopped before the end: by the cache's share, the node, or commits.
    fn stopped(entries: u64) -> Pass {
        Pass {
            entries,
            complete: false,
        }
    }
}

impl Storage {
    /// Reads the state tree at the tip and the state values into the caches,
    /// until each holds [`FILL_EIGHTHS`] of its budget, all is read, or `stop`
    /// is set. Nothing on disk changes.
    pub fn warm_caches(&self, stop: &AtomicBool) -> Result<Warmed, StorageError> {
        match self.tip()? {
            Some(tip) => self.warm_at(tip.height, stop),
            None => Ok(Warmed::default()),
        }
    }

    /// [`Storage::warm_caches`] with the tree at `version`.
    pub(super) fn warm_at(
        &self,
        version: Version,
        stop: &AtomicBool,
    ) -> Result<Warmed, StorageError> {
        let mut missing = 0;
        let tree = self.warm_tree(version, stop, &mut missing)?;
        let values = self.warm_values(stop)?;
        Ok(Warmed {
            tree_nodes: tree.entries,
            state_values: values.entries,
            nodes_missing: missing,
            complete: tree.complete && values.complete,
        })
    }

    /// The tree at `version`, depth first in batches (so the keys waiting are
    /// at most about 16 per level per batch, however large the tree).
    fn warm_tree(
        &self,
        version: Version,
        stop: &AtomicBool,
        missing: &mut u64,
    ) -> Result<Pass, StorageError> {
        let root = NodeKey::new(version, std::iter::empty().collect());
        let mut waiting = vec![root];
        let mut read = 0;
        while let (false, false) = (waiting.is_empty(), stop.load(Ordering::Relaxed)) {
            let batch = waiting.split_off(waiting.len().saturating_sub(BATCH_ENTRIES));
            let (nodes, full) = self.warm_nodes(&batch)?;
            *missing += (batch.len() - nodes.len()) as u64;
            read += nodes.len() as u64;
            if full {
                return Ok(Pass::stopped(read));
            }
            for (key, node) in &nodes {
                if let Node::Internal(internal) = node {
                    // The child's path: this one's and its nibble (jmt keeps
                    // its own path builder, and the nibble's type, to itself).
                    let path = key.nibble_path();
                    waiting.extend(internal.children_sorted().map(|(nibble, child)| {
                        let child_path = path.nibbles().chain(std::iter::once(nibble));
                        NodeKey::new(child.version, child_path.collect())
                    }));
                }
            }
        }
        Ok(Pass {
            entries: read,
            complete: waiting.is_empty(),
        })
    }

    /// One batch of tree nodes from disk (absent keys left out): the shallow
    /// ones pinned, the deeper ones cached (read again if a commit raced it),
    /// and whether the node cache holds its share now.
    fn warm_nodes(&self, keys: &[NodeKey]) -> Result<(Vec<(NodeKey, Node)>, bool), StorageError> {
        for _ in 0..=RACED_RETRIES_MAX {
            let epoch = self.nodes.epoch();
            let nodes = self.read_nodes(keys)?;
            self.top.offer(nodes.iter().map(|(key, node)| (key, node)));
            let deep: Vec<(NodeKey, Node)> = (nodes.iter())
                .filter(|(key, _)| !top::is_pinned(key))
                .cloned()
                .collect();
            let offered = deep.len();
            if let Some(kept) = self.nodes.fill_many(deep, epoch, FILL_EIGHTHS) {
                return Ok((nodes, kept < offered));
            }
        }
        Ok((self.read_nodes(keys)?, false))
    }

    /// Tree nodes by key, in one `multi_get`; absent keys are left out.
    fn read_nodes(&self, keys: &[NodeKey]) -> Result<Vec<(NodeKey, Node)>, StorageError> {
        let bytes: Vec<Vec<u8>> = keys.iter().map(super::smt::node_key_bytes).collect();
        let found = self
            .db
            .batched_multi_get_cf(self.cf(CF_SMT_NODES), &bytes, false);
        let mut nodes = Vec::with_capacity(keys.len());
        for (key, stored) in keys.iter().zip(found) {
            if let Some(stored) = stored? {
                nodes.push((key.clone(), decode_stored_serde(&stored, "tree node")?));
            }
        }
        Ok(nodes)
    }

    /// The state values in key order, a batch at a time.
    fn warm_values(&self, stop: &AtomicBool) -> Result<Pass, StorageError> {
        let mut after: Option<Vec<u8>> = None;
        let mut cached = 0;
        while !stop.load(Ordering::Relaxed) {
            let Some(batch) = self.warm_value_batch(after.as_deref())? else {
                return Ok(Pass::stopped(cached));
            };
            cached += batch.kept;
            match batch {
                ValueBatch { whole: false, .. } => return Ok(Pass::stopped(cached)),
                ValueBatch { last: None, .. } => {
                    return Ok(Pass {
                        entries: cached,
                        complete: true,
                    })
                }
                ValueBatch { last, .. } => after = last,
            }
        }
        Ok(Pass::stopped(cached))
    }

    /// The values after `after` (from the first without it), cached; `None`
    /// if every try raced a commit.
    fn warm_value_batch(&self, after: Option<&[u8]>) -> Result<Option<ValueBatch>, StorageError> {
        for _ in 0..=RACED_RETRIES_MAX {
            let epoch = self.values.epoch();
            // Read after the epoch was taken: a commit before this point is in
            // what the iterator sees, and one after it is caught by the epoch.
            let batch = self.read_values(after)?;
            let (read, last) = (batch.len(), batch.last().map(|(key, _)| key.clone()));
            if let Some(kept) = self.values.fill_many(batch, epoch, FILL_EIGHTHS) {
                return Ok(Some(ValueBatch {
                    last,
                    kept: kept as u64,
                    whole: kept == read,
                }));
            }
        }
        Ok(None)
    }

    /// Up to [`BATCH_ENTRIES`] state values after `after`, through an iterator
    /// made now.
    fn read_values(&self, after: Option<&[u8]>) -> Result<StateEntries, StorageError> {
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_STATE));
        match after {
            Some(after) => {
                iter.seek(after);
                if iter.key() == Some(after) {
                    iter.next();
                }
            }
            None => iter.seek_to_first(),
        }
        let mut batch = Vec::with_capacity(BATCH_ENTRIES);
        while let (Some(key), Some(value), true) =
            (iter.key(), iter.value(), batch.len() < BATCH_ENTRIES)
        {
            batch.push((key.to_vec(), value.to_vec()));
            iter.next();
        }
        iter.status()?;
        Ok(batch)
    }
}

/// A warm-up running on its own thread, holding its owner (the node's app)
/// until it ends: [`Warming::finish`] stops it and waits, so the database can
/// close on the main thread at shutdown.
pub struct Warming {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Warming {
    /// Starts warming `storage(&owner)`'s caches; logs what it read when done.
    /// A failure is this node's own (its disk): logged, and the node goes on
    /// with whatever the caches hold.
    pub fn start<T: Send + Sync + 'static>(
        owner: Arc<T>,
        storage: fn(&T) -> &Storage,
    ) -> std::io::Result<Warming> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tamga-warm".into())
            .spawn(move || {
                let started = Instant::now();
                match storage(&owner).warm_caches(&stopped) {
                    Ok(warmed) => tracing::info!(
                        tree_nodes = warmed.tree_nodes,
                        state_values = warmed.state_values,
                        nodes_missing = warmed.nodes_missing,
                        complete = warmed.complete,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "caches warmed"
                    ),
                    Err(e) => tracing::warn!("warming the caches failed: {e}"),
                }
            })?;
        Ok(Warming {
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Stops the warm-up at its next batch and waits for its thread.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
#[path = "warm_tests.rs"]
mod tests;
