//! Who fills the value cache: a block's reads (the runtime's [`StateRead`]) do,
//! so the values blocks need stay hot; a caller's read (RPC, `fill` false) does
//! not, so callers asking for many ids cannot evict them.

use super::*;

#[test]
fn a_callers_read_leaves_the_value_cache_and_a_blocks_read_fills_it() {
    let dir = tempfile::tempdir().unwrap();
    // Genesis written, then closed: the storage opened again has a cold cache.
    drop(crate::app::tests::open_app(dir.path()));
    let storage = Storage::open(dir.path(), crate::storage::BLOCK_CACHE_BYTES_DEFAULT).unwrap();
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
