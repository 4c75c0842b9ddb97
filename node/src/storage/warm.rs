//! Warming the node's own caches when it starts. A restarted node's caches are
//! empty, and until a block touches a key its state value and the tree nodes
//! on its path are read from RocksDB: each transaction's first touch costs
//! disk reads in execution and in the state root. In a registry most records
//! are touched rarely, so that lasts: restarted, a four-validator benchmark's
//! validators spent about twice the CPU per transfer in the state root that
//! they spent before (`docs/performance-notes.md`, "Most of the rest was the
//! restart").
//!
//! So a node reads its state values and then its state tree into the caches
//! on a thread of its own as it starts, at the node's own priority (its
//! reads replace ones blocks would make, and it takes the caches' locks:
//! at nice 19 a thread preempted while holding one would hold up blocks): in
//! bounded batches, resting after each but a pass's last as long as it took
//! (see [`Pace`]), until each cache holds [`FILL_EIGHTHS`] of its budget or
//! all of it is read. The caches' rule for readers holds (see
//! [`super::cache`]): a batch goes in only if no commit happened since it
//! began, and values are read after that point (a fresh iterator per batch,
//! so never from before a commit that changed them); a batch that raced
//! commits [`RACED_RETRIES_MAX`] times more is left out. Tree nodes never
//! change once written; the walk stays on the tree of the tip it began at,
//! so nodes that commits since made stale can go in (they answer only reads
//! of their own version, and leave with their generation).

use super::smt::NodeKeyBytes;
use super::{decode_stored_serde, top, Storage, StorageError, CF_SMT_NODES};
use jmt::storage::{Node, NodeKey};
use jmt::Version;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Entries read per batch (one `multi_get`, or one iterator's run): the
/// unit between two looks at the stop flag and the caches' epochs, and what
/// one fill holds a cache's lock for.
const BATCH_ENTRIES: usize = 256;
/// Most key and value bytes one batch of state values holds (but at least
/// one pair): contract modules are state values of up to 256 KiB.
const BATCH_BYTES_MAX: usize = 1 << 20;
/// A cache is warmed until it holds this many eighths of its budget: with
/// no commit alongside, the warm-up's own fills turn a cache over at most
/// once and retire none of its own entries doing so; and blocks have room.
const FILL_EIGHTHS: usize = 7;
/// Times a batch is read again after it raced a commit, before it is left out.
const RACED_RETRIES_MAX: usize = 3;

/// When a warm-up stops, and how it rests between batches.
///
/// The node's warm-up thread rests after each batch but a pass's last as
/// long as the batch took, so it uses about half of one core, not
/// a whole one, while blocks need the cores: a restarted node under full
/// load committed more in its first seconds than with no rests, though less
/// than with no warm-up (README, "Storage settings", at 1,000,000 records).
/// It rests outside the caches' locks and at the node's own
/// priority, so a rest holds up no block; [`Warming::finish`] wakes it.
pub struct Pace<'a> {
    pub stop: &'a AtomicBool,
    /// Called with a batch's time after each batch but the last.
    pub rest: &'a dyn Fn(Duration),
}

impl Pace<'_> {
    /// The warm-up thread's: a rest as long as the batch, cut short by
    /// `Warming::finish`'s unpark.
    fn thread(stop: &AtomicBool) -> Pace<'_> {
        Pace {
            stop,
            rest: &|batch| std::thread::park_timeout(batch),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Rests after a batch begun at `started` that was not the last.
    fn after_batch(&self, started: Instant) {
        (self.rest)(started.elapsed());
    }
}

/// What a warm-up read into the caches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Warmed {
    /// State values cached.
    pub state_values: u64,
    /// Tree nodes read (offered to the pinned levels and the node cache).
    pub tree_nodes: u64,
    /// Tree nodes named (the root, and children the nodes read name) that
    /// were not on disk.
    pub nodes_missing: u64,
    /// Batches left out of a cache: every try raced a commit.
    pub batches_raced: u64,
    /// Whether both were read to the end (not stopped by a cache's share or
    /// by the node); raced batches are counted apart.
    pub complete: bool,
}

/// A batch of values: how many were cached, and the last key read when more
/// may follow.
type ValuesRead = (u64, Option<Vec<u8>>);

/// One batch read into a cache.
struct Batch<T> {
    /// What was read (kept or not).
    read: T,
    /// Whether the cache reached its share during it.
    full: bool,
    /// Whether every try raced a commit (nothing of it kept).
    raced: bool,
}

/// How one cache's warm-up ended.
struct Pass {
    entries: u64,
    complete: bool,
}

impl Pass {
    /// Stopped before the end: by the cache's share or the node.
    fn stopped(entries: u64) -> Pass {
        Pass {
            entries,
            complete: false,
        }
    }
}

/// Reads for the warm-up leave RocksDB's block cache alone: the node's own
/// caches will hold what they read.
fn warm_read_options() -> rocksdb::ReadOptions {
    let mut options = rocksdb::ReadOptions::default();
    options.fill_cache(false);
    options
}

impl Storage {
    /// Reads the state values and the state tree at the tip into the caches,
    /// until each holds [`FILL_EIGHTHS`] of its budget, all is read, or `pace`
    /// says stop. Nothing on disk changes.
    pub fn warm_caches(&self, pace: &Pace) -> Result<Warmed, StorageError> {
        match self.tip()? {
            Some(tip) => self.warm_at(tip.height, pace),
            None => Ok(Warmed::default()),
        }
    }

    /// [`Storage::warm_caches`] with the tree at `version`.
    pub(super) fn warm_at(&self, version: Version, pace: &Pace) -> Result<Warmed, StorageError> {
        let mut warmed = Warmed::default();
        let values = self.warm_values(pace, &mut warmed, &|| ())?;
        let tree = self.warm_tree(version, pace, &mut warmed)?;
        warmed.state_values = values.entries;
        warmed.tree_nodes = tree.entries;
        warmed.complete = values.complete && tree.complete;
        Ok(warmed)
    }

    /// The state values in key order, a batch at a time; `after_read` runs
    /// between each batch's read and its fill (tests commit there).
    fn warm_values(
        &self,
        pace: &Pace,
        warmed: &mut Warmed,
        after_read: &dyn Fn(),
    ) -> Result<Pass, StorageError> {
        let mut after: Option<Vec<u8>> = None;
        let mut cached = 0;
        while !pace.stopped() {
            let started = Instant::now();
            let batch = self.warm_value_batch(after.as_deref(), after_read)?;
            warmed.batches_raced += u64::from(batch.raced);
            let (kept, next) = batch.read;
            cached += kept;
            match (batch.full, next) {
                (true, _) => return Ok(Pass::stopped(cached)),
                (false, None) => {
                    return Ok(Pass {
                        entries: cached,
                        complete: true,
                    })
                }
                (false, next) => after = next,
            }
            pace.after_batch(started);
        }
        Ok(Pass::stopped(cached))
    }

    /// The values after `after` (from the first without it): how many were
    /// cached, and the last key read when more may follow.
    fn warm_value_batch(
        &self,
        after: Option<&[u8]>,
        after_read: &dyn Fn(),
    ) -> Result<Batch<ValuesRead>, StorageError> {
        let mut next = None;
        for _ in 0..=RACED_RETRIES_MAX {
            let epoch = self.values.epoch();
            // Read after the epoch was taken: a commit before this point is in
            // what the iterator sees, and one after it is caught by the epoch.
            let bounds = (BATCH_ENTRIES, BATCH_BYTES_MAX);
            let page = self.state_pairs(after, bounds, warm_read_options())?;
            after_read();
            let read = page.pairs.len();
            next = page.next;
            if let Some(kept) = self.values.fill_many(page.pairs, epoch, FILL_EIGHTHS) {
                return Ok(Batch {
                    read: (kept as u64, next),
                    full: kept < read,
                    raced: false,
                });
            }
        }
        Ok(Batch {
            read: (0, next),
            full: false,
            raced: true,
        })
    }

    /// The tree at `version`, depth first in batches (so the keys waiting are
    /// at most about 16 × [`BATCH_ENTRIES`] per level, however large the tree).
    fn warm_tree(
        &self,
        version: Version,
        pace: &Pace,
        warmed: &mut Warmed,
    ) -> Result<Pass, StorageError> {
        let root = NodeKey::new(version, std::iter::empty().collect());
        let mut waiting = vec![root];
        let mut read = 0;
        while let (false, false) = (waiting.is_empty(), pace.stopped()) {
            let started = Instant::now();
            let keys = waiting.split_off(waiting.len().saturating_sub(BATCH_ENTRIES));
            let batch = self.warm_nodes(&keys)?;
            warmed.nodes_missing += (keys.len() - batch.read.len()) as u64;
            warmed.batches_raced += u64::from(batch.raced);
            read += batch.read.len() as u64;
            if batch.full {
                return Ok(Pass::stopped(read));
            }
            for (key, node) in &batch.read {
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
            if !waiting.is_empty() {
                pace.after_batch(started);
            }
        }
        Ok(Pass {
            entries: read,
            complete: waiting.is_empty(),
        })
    }

    /// One batch of tree nodes from disk (absent keys left out): the shallow
    /// ones pinned, the deeper ones cached (read again if a commit raced it).
    /// A raced batch's nodes are still returned: the walk goes on below them.
    fn warm_nodes(&self, keys: &[NodeKey]) -> Result<Batch<Vec<(NodeKey, Node)>>, StorageError> {
        let mut nodes = vec![];
        for _ in 0..=RACED_RETRIES_MAX {
            let epoch = self.nodes.epoch();
            nodes = self.read_nodes(keys)?;
            self.top.offer(nodes.iter().map(|(key, node)| (key, node)));
            let deep: Vec<(NodeKeyBytes, Node)> = (nodes.iter())
                .filter(|(key, _)| !top::is_pinned(key))
                .map(|(key, node)| (NodeKeyBytes::of(key), node.clone()))
                .collect();
            let offered = deep.len();
            if let Some(kept) = self.nodes.fill_many(deep, epoch, FILL_EIGHTHS) {
                return Ok(Batch {
                    read: nodes,
                    full: kept < offered,
                    raced: false,
                });
            }
        }
        Ok(Batch {
            read: nodes,
            full: false,
            raced: true,
        })
    }

    /// Tree nodes by key, in one `multi_get`; absent keys are left out.
    fn read_nodes(&self, keys: &[NodeKey]) -> Result<Vec<(NodeKey, Node)>, StorageError> {
        let bytes: Vec<NodeKeyBytes> = keys.iter().map(NodeKeyBytes::of).collect();
        let cf = self.cf(CF_SMT_NODES);
        let found = (self.db).batched_multi_get_cf_opt(cf, &bytes, false, &warm_read_options());
        let mut nodes = Vec::with_capacity(keys.len());
        for (key, stored) in keys.iter().zip(found) {
            if let Some(stored) = stored? {
                nodes.push((key.clone(), decode_stored_serde(&stored, "tree node")?));
            }
        }
        Ok(nodes)
    }
}

/// A warm-up running on its own thread, holding its owner (the node's app)
/// until it ends: [`Warming::finish`] stops it and waits, so the database can
/// close on the main thread at shutdown.
pub struct Warming {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    started: Instant,
    /// How it ended and its milliseconds, once it has.
    ended: Arc<Mutex<Option<Ended>>>,
}

/// A warm-up's result and its time.
type Ended = (Result<Warmed, String>, u64);

/// Records how the warm-up ended when dropped, a panic included (dropped
/// while unwinding, it says failed rather than leave the status running).
struct Ending {
    ended: Arc<Mutex<Option<Ended>>>,
    started: Instant,
    result: Option<Result<Warmed, String>>,
}

impl Drop for Ending {
    fn drop(&mut self) {
        let result =
            (self.result.take()).unwrap_or_else(|| Err("the warm-up thread panicked".to_owned()));
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some((result, elapsed_ms));
    }
}

/// Warms `storage`'s caches and logs what it read, or why it could not.
fn warm_and_log(storage: &Storage, stop: &AtomicBool, started: Instant) -> Result<Warmed, String> {
    let result = storage.warm_caches(&Pace::thread(stop));
    match &result {
        Ok(warmed) => tracing::info!(
            state_values = warmed.state_values,
            tree_nodes = warmed.tree_nodes,
            nodes_missing = warmed.nodes_missing,
            batches_raced = warmed.batches_raced,
            complete = warmed.complete,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "caches warmed"
        ),
        Err(e) => tracing::warn!("warming the caches failed: {e}"),
    }
    result.map_err(|e| e.to_string())
}

/// Where a node's warm-up stands, as `node_storage` reports it (`warm_up`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmUpState {
    /// Not configured (`[storage] warm_caches = false`), or its thread could
    /// not start (logged).
    #[default]
    Off,
    Running,
    /// Ended: read to the end, stopped at a cache's share, or at shutdown.
    Done,
    /// A read failed, or the thread panicked (`error` says which); the
    /// caches keep what it read.
    Failed,
}

/// A warm-up's state, its time (so far, while it runs) and, once done, what
/// it read (see [`Warmed`]; zeros before).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WarmUpStatus {
    pub state: WarmUpState,
    pub elapsed_ms: u64,
    pub state_values: u64,
    pub tree_nodes: u64,
    pub nodes_missing: u64,
    pub batches_raced: u64,
    pub complete: bool,
    pub error: Option<String>,
}

impl WarmUpStatus {
    fn of(ended: &Ended) -> WarmUpStatus {
        let (result, elapsed_ms) = ended;
        match result {
            Ok(warmed) => WarmUpStatus {
                state: WarmUpState::Done,
                elapsed_ms: *elapsed_ms,
                state_values: warmed.state_values,
                tree_nodes: warmed.tree_nodes,
                nodes_missing: warmed.nodes_missing,
                batches_raced: warmed.batches_raced,
                complete: warmed.complete,
                error: None,
            },
            Err(error) => WarmUpStatus {
                state: WarmUpState::Failed,
                elapsed_ms: *elapsed_ms,
                error: Some(error.clone()),
                ..WarmUpStatus::default()
            },
        }
    }
}

impl Warming {
    /// Starts warming `storage(&owner)`'s caches; logs what it read when done.
    /// A failure, even to start the thread, is this node's own (its disk, its
    /// limits): logged, and the node goes on with whatever the caches hold.
    pub fn start<T: Send + Sync + 'static>(
        owner: Arc<T>,
        storage: fn(&T) -> &Storage,
    ) -> Option<Warming> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let ended = Arc::new(Mutex::new(None));
        let ending = ended.clone();
        let started = Instant::now();
        let spawned = std::thread::Builder::new()
            .name("tamga-warm".into())
            .spawn(move || {
                let mut ending = Ending {
                    ended: ending,
                    started,
                    result: None,
                };
                ending.result = Some(warm_and_log(storage(&owner), &stopped, started));
            });
        match spawned {
            Ok(thread) => Some(Warming {
                stop,
                thread: Mutex::new(Some(thread)),
                started,
                ended,
            }),
            Err(e) => {
                tracing::warn!("the caches are not warmed: no thread for it ({e})");
                None
            }
        }
    }

    /// Running (with its time so far), or how it ended.
    pub fn status(&self) -> WarmUpStatus {
        match &*self.ended.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(ended) => WarmUpStatus::of(ended),
            None => WarmUpStatus {
                state: WarmUpState::Running,
                elapsed_ms: self.started.elapsed().as_millis() as u64,
                ..WarmUpStatus::default()
            },
        }
    }

    /// Stops the warm-up at its next batch (a batch being read finishes,
    /// with its retries) and waits for its thread.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Out of a rest at once (the flag is set first: an unpark before
        // the park makes the park return at once too).
        if let Some(thread) = &thread {
            thread.thread().unpark();
        }
        if let Some(Err(_)) = thread.map(JoinHandle::join) {
            tracing::warn!("the cache warm-up thread panicked");
        }
    }
}

#[cfg(test)]
#[path = "warm_tests.rs"]
mod tests;
