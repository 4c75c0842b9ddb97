//! Reading a data directory: only one of this release's layout is read, and
//! who fills the value cache — a block's reads (the runtime's [`StateRead`]) do,
//! so the values blocks need stay hot; a caller's read (RPC, `fill` false) does
//! not, so callers asking for many ids cannot evict them.

use super::*;

#[test]
fn a_callers_read_leaves_the_value_cache_and_a_blocks_read_fills_it() {
    let dir = tempfile::tempdir().unwrap();
    // Genesis written, then closed: the storage opened again has a cold cache.
    drop(crate::app::tests::open_app(dir.path()));
    let storage = Storage::open(dir.path(), &crate::storage::CacheBudget::DEFAULT).unwrap();
    let key = tamga_runtime::state::keys::chain_id();
    let found = storage.state_raw(&key, false).unwrap();
    assert!(found.is_some(), "genesis wrote the chain id");
    assert!(
        storage.values.get(&key).is_err(),
        "a caller's read filled the value cache"
    );
    assert_eq!(StateRead::get(&storage, &key), found);
    assert!(
        storage.values.get(&key).is_ok(),
        "a block's read left the value cache cold"
    );
}

/// A data directory of another layout, or of a release before layouts were
/// marked, is refused by name when it is opened; its own layout opens.
#[test]
fn a_data_directory_of_another_layout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(crate::app::tests::open_app(dir.path()));
    let set_layout = |layout: Option<u32>| {
        let db = DB::open_cf(&Options::default(), dir.path(), ALL_CFS).unwrap();
        let meta = db.cf_handle(CF_META).unwrap();
        match layout {
            Some(layout) => db.put_cf(meta, META_LAYOUT, encoding::encode(&layout)),
            None => db.delete_cf(meta, META_LAYOUT),
        }
        .unwrap();
    };
    for (stored, found) in [(Some(1u32), "layout is 1,"), (None, "unmarked")] {
        set_layout(stored);
        let refused = Storage::open(dir.path(), &CacheBudget::DEFAULT).err();
        let refused = refused.expect("another layout").to_string();
        assert!(refused.contains(found), "{refused}");
        assert!(refused.contains("on a new home"), "{refused}");
    }
    set_layout(Some(STORAGE_LAYOUT));
    assert!(Storage::open(dir.path(), &CacheBudget::DEFAULT).is_ok());
}

/// The node's own stored types encode through bincode's own traits to serde's
/// bytes (the runtime's tests check the runtime's types where they encode them,
/// the events of each scenario's transactions included).
#[test]
fn a_location_and_a_tip_encode_as_serde_would() {
    use tamga_runtime::{records::Event, SubjectId};
    let location = TxLocation {
        height: 1 << 33,
        index: 70_000,
        events: vec![
            Event::Transferred {
                record: Hash32([3; 32]),
                from: SubjectId([4; 32]),
                to: SubjectId([5; 32]),
                amount: None,
            },
            Event::ClassRegistered {
                class: Hash32([6; 32]),
                issuer: SubjectId([7; 32]),
            },
        ],
    };
    let tip = Tip {
        height: 251,
        block_hash: Hash32([1; 32]),
        state_root: Hash32([2; 32]),
        time_ms: 1_764_000_000_000,
    };
    assert_eq!(
        encoding::encode(&location),
        encoding::encode_serde(&location)
    );
    assert_eq!(encoding::encode(&tip), encoding::encode_serde(&tip));
    assert_eq!(
        decode_stored::<TxLocation>(&encoding::encode(&location), "l").ok(),
        Some(location)
    );
}

/// RocksDB checksums every write-ahead-log record it writes and reads with
/// CRC32C. On x86-64 it uses the CPU's instructions for that only if its C++
/// was compiled for them (`.cargo/config.toml`, `[env]`); it says in its own
/// log when a database opens whether SSE4.2's are in. Its fastest path also
/// needs PCLMULQDQ, which the log does not show: the flags are checked too.
#[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
#[test]
fn rocksdb_checksums_with_the_cpus_crc32c_instructions() {
    let flags = option_env!("CXXFLAGS_x86_64_unknown_linux_gnu").unwrap_or("");
    assert!(
        flags.contains("-msse4.2") && flags.contains("-mpclmul"),
        "RocksDB's C++ flags: {flags:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    drop(Storage::open(dir.path(), &CacheBudget::of_mib(8, 8, 8)).unwrap());
    let log = std::fs::read_to_string(dir.path().join("LOG")).unwrap();
    let line = log
        .lines()
        .find(|line| line.contains("Fast CRC32 supported"))
        .expect("RocksDB logs its CRC32C implementation at open");
    assert!(
        line.ends_with("Fast CRC32 supported: Supported on x86"),
        "{line}"
    );
}
