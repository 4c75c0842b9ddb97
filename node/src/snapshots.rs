//! The state snapshots a node serves to nodes joining the chain (see
//! `state_sync` for the joining side). Every `[state_sync] snapshot_interval_heights`
//! heights, after a commit, a background thread takes a RocksDB checkpoint of
//! the database (its memtables flushed, then hard links to its files: no copy)
//! and opens it; `snapshot_chunk` pages that frozen state out while the node
//! goes on committing. The two newest are kept, so a joiner part-way through
//! one is not cut off the moment the next is taken. A checkpoint holds on to
//! files compaction would have deleted, so the disk holds up to about one more
//! state's worth per kept snapshot.
//!
//! Snapshots live in the data directory's `snapshots/` and are taken afresh
//! after each start (the ones a previous run left are removed): a restarted
//! node takes one at its first commit past the first interval.

use crate::app::App;
use crate::storage::{Storage, StorageError};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tamga_runtime::types::encoding;

/// Snapshots kept at once (the newest last).
pub const SNAPSHOTS_KEPT: usize = 2;

/// `snapshot_chunk` calls served at once: each reads and encodes up to a
/// page's 2 MiB, so a caller paging many snapshots in parallel cannot take
/// every RPC slot or much memory; more are told the node is busy.
pub const PAGES_AT_ONCE_MAX: usize = 4;

/// One snapshot: its frozen copy, open, the height its state is at, and its
/// anchor (built once). Its directory goes when the last reader lets go of it.
pub struct Served {
    pub height: u64,
    /// `tamga_verify::StateAnchor` in the canonical encoding.
    pub anchor: Vec<u8>,
    pub storage: Storage,
    /// Declared after `storage`, so dropped after it: the database closes
    /// before its files go.
    _dir: RemovedOnDrop,
}

/// A directory removed when this is dropped.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(dir = %self.0.display(), "old snapshot not removed: {e}");
        }
    }
}

/// The snapshots a node serves, and the one being taken.
pub struct Snapshots {
    dir: PathBuf,
    interval_heights: u64,
    served: Mutex<VecDeque<Arc<Served>>>,
    /// A snapshot is being taken (one at a time).
    taking: AtomicBool,
    /// This run has started taking one.
    tried: AtomicBool,
    /// The thread taking it, joined before the database closes.
    taker: Mutex<Option<JoinHandle<()>>>,
    /// `snapshot_chunk` calls running now.
    pages_in_flight: AtomicUsize,
}

impl Snapshots {
    /// Snapshots in `dir` every `interval_heights` (0: none); what a previous
    /// run left there is removed.
    pub fn open(dir: PathBuf, interval_heights: u64) -> std::io::Result<Snapshots> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Snapshots {
            dir,
            interval_heights,
            served: Mutex::default(),
            taking: AtomicBool::new(false),
            tried: AtomicBool::new(false),
            taker: Mutex::default(),
            pages_in_flight: AtomicUsize::new(0),
        })
    }

    /// The newest snapshot served, if any.
    pub fn newest(&self) -> Option<Arc<Served>> {
        self.served.lock().expect("snapshots lock").back().cloned()
    }

    /// The snapshot at `height`, if it is still served.
    pub fn at(&self, height: u64) -> Option<Arc<Served>> {
        let served = self.served.lock().expect("snapshots lock");
        served.iter().find(|s| s.height == height).cloned()
    }

    /// The heights served, oldest first.
    pub fn heights(&self) -> Vec<u64> {
        let served = self.served.lock().expect("snapshots lock");
        served.iter().map(|s| s.height).collect()
    }

    /// Runs `page` if fewer than [`PAGES_AT_ONCE_MAX`] pages are being served;
    /// `None` if as many are.
    pub fn page<T>(&self, page: impl FnOnce() -> T) -> Option<T> {
        let in_flight = &self.pages_in_flight;
        let claim = |n: usize| (n < PAGES_AT_ONCE_MAX).then_some(n + 1);
        in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, claim)
            .ok()?;
        // Given back however `page` ends, a panic included.
        struct Release<'a>(&'a AtomicUsize);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _release = Release(in_flight);
        Some(page())
    }

    /// Waits for a snapshot being taken to finish (at shutdown: its thread
    /// holds the ledger, which must close on the main thread).
    pub fn wait_taken(&self) {
        let taker = self.taker.lock().expect("snapshots lock").take();
        if let Some(taker) = taker {
            let _ = taker.join();
        }
    }
}

/// Whether a snapshot is due after `height` committed: at every multiple of the
/// interval, and at the first commit past the first interval if this run has
/// tried none yet (after a restart, which removes the snapshots a previous run
/// took, a node serves again at once rather than up to an interval later; one
/// that failed waits for the next multiple, not the next block).
fn due(interval_heights: u64, height: u64, tried: bool) -> bool {
    interval_heights > 0
        && (height.is_multiple_of(interval_heights) || (!tried && height >= interval_heights))
}

/// After `height` committed: takes a snapshot on a background thread when
/// [`due`] and none is being taken. A failure is this node's own
/// (disk space, say): logged, and the snapshots already served stay.
pub fn after_commit(app: &Arc<App>, height: u64) {
    let Some(snapshots) = app.snapshots.get() else {
        return;
    };
    let tried = snapshots.tried.load(Ordering::Acquire);
    if !due(snapshots.interval_heights, height, tried)
        || snapshots.taking.swap(true, Ordering::AcqRel)
    {
        return;
    }
    snapshots.tried.store(true, Ordering::Release);
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("tamga-snapshot".into())
        .spawn(move || {
            let Some(snapshots) = app.snapshots.get() else {
                return;
            };
            match take(&app.storage, snapshots, height) {
                Ok(at) => tracing::info!(height = at, "state snapshot taken"),
                Err(e) => tracing::warn!(height, "state snapshot not taken: {e}"),
            }
            snapshots.taking.store(false, Ordering::Release);
        });
    match spawned {
        Ok(handle) => *snapshots.taker.lock().expect("snapshots lock") = Some(handle),
        Err(e) => {
            tracing::warn!(height, "state snapshot not taken: no thread: {e}");
            snapshots.taking.store(false, Ordering::Release);
        }
    }
}

/// Checkpoints `storage` into a new directory, opens it read-only with its
/// anchor, serves it, and lets go of the oldest beyond [`SNAPSHOTS_KEPT`].
/// The snapshot's height is the checkpoint's own tip (blocks may have
/// committed since `trigger`).
fn take(storage: &Storage, snapshots: &Snapshots, trigger: u64) -> Result<u64, StorageError> {
    let dir = snapshots.dir.join(trigger.to_string());
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let guard = RemovedOnDrop(dir.clone());
    storage.checkpoint(&dir)?;
    let frozen = Storage::open_frozen(&dir)?;
    let height = frozen.tip()?.map_or(0, |tip| tip.height);
    let anchor = crate::certify::anchor(storage, height)
        .map_err(|e| StorageError::Tree(format!("the snapshot's anchor: {e}")))?;
    let served = Arc::new(Served {
        height,
        anchor: encoding::encode_serde(&anchor),
        storage: frozen,
        _dir: guard,
    });
    let dropped: Vec<Arc<Served>> = {
        let mut list = snapshots.served.lock().expect("snapshots lock");
        list.push_back(served);
        let excess = list.len().saturating_sub(SNAPSHOTS_KEPT);
        list.drain(..excess).collect()
    };
    // Closed and removed here, outside the lock, unless a joiner still pages
    // one of them: then when it lets go.
    drop(dropped);
    Ok(height)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot at every multiple of the interval; and, if this run has tried
    /// none, at the first commit past the first interval (after a restart).
    #[test]
    fn a_snapshot_is_due_at_each_interval_and_at_once_when_none_was_tried() {
        let due_at = |tried| (1..=25).filter(|h| due(10, *h, tried)).collect::<Vec<_>>();
        assert_eq!(due_at(true), [10, 20]);
        assert_eq!(due_at(false), (10..=25).collect::<Vec<_>>());
        assert!((1..=25).all(|h| !due(0, h, false)), "0 takes none");
    }

    /// At most [`PAGES_AT_ONCE_MAX`] pages run at once; a refused call takes
    /// no slot, and a page that panics gives its slot back.
    #[test]
    fn pages_at_once_are_bounded_and_always_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = Snapshots::open(dir.path().join("snapshots"), 0).unwrap();
        fn nest(snapshots: &Snapshots, depth: usize) -> usize {
            match snapshots.page(|| 1 + nest(snapshots, depth + 1)) {
                Some(deeper) => deeper,
                None => {
                    assert_eq!(depth, PAGES_AT_ONCE_MAX, "refused too early");
                    0
                }
            }
        }
        assert_eq!(nest(&snapshots, 0), PAGES_AT_ONCE_MAX);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            snapshots.page(|| panic!("a page failed"))
        }));
        assert!(panicked.is_err());
        assert_eq!(snapshots.pages_in_flight.load(Ordering::Acquire), 0);
        assert_eq!(nest(&snapshots, 0), PAGES_AT_ONCE_MAX);
    }
}
