//! The warm-up's tests: what it reads serves a block with the disk gone, it
//! stops at its share and when told, a commit between a batch's read and its
//! fill leaves no stale value, and its thread lets go of the storage.

use super::*;
use crate::storage::smt::tests::{commit_version, deep_keys};
use crate::storage::{state_root_after, CacheBudget, Tip, CF_META, CF_STATE, META_TIP};
use std::cell::Cell;
use tamga_runtime::state::WriteSet;
use tamga_runtime::types::encoding;
use tamga_runtime::Hash32;

/// Keys enough that the tree reaches below the pinned levels: a few thousand
/// spread ones and pairs that share five nibbles.
fn keys() -> Vec<u32> {
    let mut keys: Vec<u32> = (0..3_000).collect();
    keys.extend(deep_keys(40).into_iter().filter(|k| *k >= 3_000));
    keys
}

/// Every key in `keys` rewritten with one more byte: a block that walks the
/// whole tree.
fn rewrite(keys: &[u32]) -> WriteSet {
    (keys.iter())
        .map(|i| (i.to_be_bytes().to_vec(), Some(vec![9; 9])))
        .collect()
}

/// Deletes every entry of a column family, as if the disk lost it.
fn lose(storage: &Storage, cf: &str) {
    let keys: Vec<Box<[u8]>> = (storage
        .db
        .iterator_cf(storage.cf(cf), rocksdb::IteratorMode::Start))
    .map(|entry| entry.expect("test read").0)
    .collect();
    assert!(!keys.is_empty(), "{cf} held nothing");
    for key in keys {
        storage
            .db
            .delete_cf(storage.cf(cf), key)
            .expect("test write");
    }
}

/// No rests: the tests that need none.
fn unpaced(stop: &AtomicBool) -> Pace<'_> {
    Pace {
        stop,
        rest: &|_| (),
    }
}

/// Marks `height` as the tip (`commit_version` writes state and tree only).
fn set_tip(storage: &Storage, height: u64) {
    let tip = Tip {
        height,
        block_hash: Hash32([1; 32]),
        state_root: Hash32([2; 32]),
        time_ms: 0,
    };
    (storage.db)
        .put_cf(storage.cf(CF_META), META_TIP, encoding::encode(&tip))
        .expect("test write");
}

/// After a restart and a warm-up, a block that rewrites every key computes
/// the same root with the tree and the values gone from disk: everything it
/// reads came from the pinned levels and the caches the warm-up filled (a
/// tree of two versions, walked at the tip's).
#[test]
fn a_warmed_node_needs_no_tree_node_or_value_from_disk() {
    let keys = keys();
    let dir = tempfile::tempdir().unwrap();
    let open = || Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    let storage = open();
    commit_version(&storage, &keys, 0);
    commit_version(&storage, &keys[..keys.len() / 2], 1);
    set_tip(&storage, 1);
    drop(storage);
    let storage = open();
    let (expected, _) = state_root_after(&storage, 2, &rewrite(&keys)).unwrap();
    drop(storage);

    let storage = open();
    let warmed = storage
        .warm_caches(&unpaced(&AtomicBool::new(false)))
        .unwrap();
    assert!(warmed.complete, "{warmed:?}");
    assert_eq!((warmed.nodes_missing, warmed.batches_raced), (0, 0));
    assert_eq!(warmed.state_values, keys.len() as u64, "{warmed:?}");
    assert!(warmed.tree_nodes > keys.len() as u64, "{warmed:?}");
    lose(&storage, CF_SMT_NODES);
    lose(&storage, CF_STATE);
    let (root, _) = state_root_after(&storage, 2, &rewrite(&keys)).unwrap();
    assert_eq!(root, expected);
    for (i, key) in keys.iter().enumerate() {
        let value = storage.state_raw(&key.to_be_bytes(), false).unwrap();
        let version = u8::from(i < keys.len() / 2);
        assert_eq!(value, Some(vec![version; 8]), "key {key}");
    }
}

/// A warm-up stops once a cache holds 7/8 of its budget, and when the node
/// stops it; it reads nothing on an empty database.
#[test]
fn a_warm_up_stops_at_its_share_of_the_budget_and_when_told() {
    let keys: Vec<u32> = (0..120_000).collect();
    let dir = tempfile::tempdir().unwrap();
    let budget = CacheBudget::of_mib(8, 8, 8);
    let storage = Storage::open(dir.path(), &budget).unwrap();
    let nothing = storage
        .warm_caches(&unpaced(&AtomicBool::new(false)))
        .unwrap();
    assert_eq!(nothing, Warmed::default());
    commit_version(&storage, &keys, 0);
    drop(storage);

    let storage = Storage::open(dir.path(), &budget).unwrap();
    let warmed = storage
        .warm_at(0, &unpaced(&AtomicBool::new(true)))
        .unwrap();
    assert_eq!(
        (warmed.tree_nodes, warmed.state_values),
        (0, 0),
        "{warmed:?}"
    );
    assert!(!warmed.complete);

    let warmed = storage
        .warm_at(0, &unpaced(&AtomicBool::new(false)))
        .unwrap();
    assert!(!warmed.complete, "{warmed:?}");
    let share = (budget.tree_bytes / 8 * FILL_EIGHTHS) as u64;
    for (what, usage) in [
        ("tree", storage.nodes.usage()),
        ("values", storage.values.usage()),
    ] {
        assert!(usage.usage_bytes >= share, "{what}: {usage:?}");
        assert!(usage.usage_bytes < share + 2048, "{what}: {usage:?}");
    }
    assert!(warmed.state_values < keys.len() as u64, "{warmed:?}");
}

/// A commit between a batch's read and its fill (here: every key rewritten,
/// some deleted) keeps that read out of the cache; the batch is read again,
/// and every value cached is the one on disk.
#[test]
fn a_commit_during_a_batch_leaves_no_stale_value_cached() {
    let keys: Vec<u32> = (0..600).collect();
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    commit_version(&storage, &keys, 0);
    storage.values.forget_all();
    let committed = Cell::new(false);
    let commit = || {
        if !committed.replace(true) {
            let set: WriteSet = (keys.iter())
                .map(|i| (i.to_be_bytes().to_vec(), (i % 3 != 0).then(|| vec![1; 8])))
                .collect();
            let (_, tree) = state_root_after(&storage, 1, &set).unwrap();
            let mut batch = rocksdb::WriteBatch::default();
            storage.put_state(&mut batch, &set, &tree);
            storage.write(batch).unwrap();
            storage.cache_committed(&set, &tree);
        }
    };
    let mut warmed = Warmed::default();
    let stop = AtomicBool::new(false);
    let pass = storage
        .warm_values(&unpaced(&stop), &mut warmed, &commit)
        .unwrap();
    assert!(committed.get() && pass.complete);
    assert_eq!(pass.entries, 400, "two of three keys are left");
    assert_eq!(warmed.batches_raced, 0, "{warmed:?}");
    for i in &keys {
        let key = i.to_be_bytes().to_vec();
        let on_disk = storage.get_raw(CF_STATE, &key).unwrap();
        assert_eq!(on_disk.is_some(), i % 3 != 0, "key {i}");
        match storage.values.get(&key) {
            Ok(cached) => assert_eq!(Some(cached), on_disk, "key {i}"),
            Err(_) => assert_eq!(on_disk, None, "key {i} left out"),
        }
    }
}

/// A storage holding `keys` at the tip, and its warm-up's thread started.
fn warming_up(keys: &[u32]) -> (tempfile::TempDir, Arc<Storage>, Warming) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    commit_version(&storage, keys, 0);
    set_tip(&storage, 0);
    let storage = Arc::new(storage);
    let warming = Warming::start(storage.clone(), |storage| storage).expect("a thread");
    (dir, storage, warming)
}

/// Stopped at once, the warm-up's thread ends and lets go of its storage,
/// which then closes (a node's shutdown does this before closing its
/// database on the main thread).
#[test]
fn a_stopped_warm_up_lets_go_of_its_storage() {
    let keys: Vec<u32> = (0..20_000).collect();
    let (dir, storage, warming) = warming_up(&keys);
    warming.finish();
    warming.finish();
    let storage = Arc::try_unwrap(storage).ok().expect("the thread let go");
    drop(storage);
    Storage::open(dir.path(), &CacheBudget::DEFAULT).expect("reopens");
}

/// Once ended, the warm-up reports what it read and how it ended, as
/// `node_storage` shows it; until then, that it runs.
#[test]
fn a_warm_up_reports_what_it_read_once_done() {
    let keys: Vec<u32> = (0..2_000).collect();
    let (_dir, _storage, warming) = warming_up(&keys);
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while warming.status().state == WarmUpState::Running {
        assert!(Instant::now() < deadline, "the warm-up never ended");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = warming.status();
    assert_eq!(status.state, WarmUpState::Done);
    assert_eq!(status.state_values, keys.len() as u64);
    assert!(
        status.tree_nodes > keys.len() as u64,
        "leaves and the nodes above them"
    );
    assert!(status.complete && status.error.is_none(), "{status:?}");
    warming.finish();
    assert_eq!(
        warming.status(),
        status,
        "finishing an ended warm-up changes nothing"
    );
}

/// A warm-up thread that panics says so, rather than running forever.
#[test]
fn a_panicked_warm_up_reports_failed() {
    let ended = Arc::new(Mutex::new(None));
    let ending = ended.clone();
    let thread = std::thread::spawn(move || {
        let _ending = Ending {
            ended: ending,
            started: Instant::now(),
            result: None,
        };
        panic!("a read the warm-up did not expect");
    });
    assert!(thread.join().is_err(), "the thread panicked");
    let status = WarmUpStatus::of(ended.lock().unwrap().as_ref().expect("recorded"));
    assert_eq!(status.state, WarmUpState::Failed);
    assert!(status.error.unwrap().contains("panicked"));
}

/// The warm-up rests between batches, each rest as long as one batch took
/// (not zero, not the whole warm-up), and not after a pass's last batch: a state of one value batch and a tree of one batch
/// rests nowhere.
#[test]
fn a_warm_up_rests_between_batches_as_long_as_each_took() {
    let rests = std::cell::RefCell::new(Vec::new());
    let record = |batch: std::time::Duration| rests.borrow_mut().push(batch);
    let stop = AtomicBool::new(false);
    let pace = Pace {
        stop: &stop,
        rest: &record,
    };
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    commit_version(&storage, &[7], 0);
    let warmed = storage.warm_at(0, &pace).unwrap();
    assert_eq!((warmed.state_values, warmed.tree_nodes), (1, 1));
    assert!(rests.borrow().is_empty(), "{:?}", rests.borrow());

    let keys = keys();
    commit_version(&storage, &keys, 1);
    let started = Instant::now();
    let warmed = storage.warm_at(1, &pace).unwrap();
    let whole = started.elapsed();
    assert!(warmed.complete, "{warmed:?}");
    let rests = rests.borrow();
    let value_batches = keys.len().div_ceil(BATCH_ENTRIES);
    assert!(rests.len() >= value_batches, "{} rests", rests.len());
    assert!(rests.iter().all(|rest| !rest.is_zero() && *rest < whole));
}
