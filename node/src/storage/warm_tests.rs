use super::*;
use crate::storage::smt::tests::{commit_version, deep_keys};
use crate::storage::{state_root_after, CacheBudget};
use tamga_runtime::state::WriteSet;

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

/// After a restart and a warm-up, a block that rewrites every key computes
/// the same root with the tree and the values gone from disk: everything it
/// reads came from the pinned levels and the caches the warm-up filled.
#[test]
fn a_warmed_node_needs_no_tree_node_or_value_from_disk() {
    let keys = keys();
    let dir = tempfile::tempdir().unwrap();
    let open = || Storage::open(dir.path(), &CacheBudget::DEFAULT).unwrap();
    let storage = open();
    commit_version(&storage, &keys, 0);
    commit_version(&storage, &keys[..keys.len() / 2], 1);
    drop(storage);
    let storage = open();
    let (expected, _) = state_root_after(&storage, 2, &rewrite(&keys)).unwrap();
    drop(storage);

    let storage = open();
    let warmed = storage.warm_at(1, &AtomicBool::new(false)).unwrap();
    assert!(warmed.complete, "{warmed:?}");
    assert_eq!(warmed.nodes_missing, 0, "{warmed:?}");
    assert_eq!(warmed.state_values, keys.len() as u64, "{warmed:?}");
    assert!(
        storage.nodes.usage().entries > 0,
        "nothing below the pinned levels"
    );
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
    assert_eq!(
        storage.warm_caches(&AtomicBool::new(false)).unwrap(),
        Warmed::default()
    );
    commit_version(&storage, &keys, 0);
    drop(storage);

    let storage = Storage::open(dir.path(), &budget).unwrap();
    let warmed = storage.warm_at(0, &AtomicBool::new(true)).unwrap();
    assert_eq!(
        (warmed.tree_nodes, warmed.state_values),
        (0, 0),
        "{warmed:?}"
    );
    assert!(!warmed.complete);

    let warmed = storage.warm_at(0, &AtomicBool::new(false)).unwrap();
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
