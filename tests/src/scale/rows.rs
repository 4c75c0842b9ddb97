//! The printed rows of issue 13's benchmark: the state grown to a large number of
//! records, transfers on it beside the same workload at a small state, where the
//! disk bytes of a transfer go, and query rates beside a bare jsonrpsee server.

use super::query::{alternating, load, median, BareServer, Load, Query};
use super::{dir_bytes, disk, free_bytes, growth, mib, transfer_run, Rng};
use crate::Node;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tamga_runtime::Hash32;

/// The records of the large state, as the query rows draw from them.
pub struct LargeState {
    /// Every record the benchmark registered.
    pub all: Vec<Hash32>,
    /// Records alice still owns (registered in the growth, never transferred).
    pub alices: Vec<Hash32>,
    /// Records that were transferred once (a two-entry history).
    pub moved: Vec<Hash32>,
}

/// Grows the state from `small.len()` to `large` records (all new ones alice's),
/// then transfers `count` of them, picked at random, to bob: the committed rate
/// beside `small_rate` (the same workload at the small state), the disk bytes per
/// transfer by column family, and the node's memory and data directory.
pub fn large_state(
    node: &Node,
    chain: &str,
    count: usize,
    small: &[Hash32],
    small_rate: f64,
    large: usize,
) -> LargeState {
    let grow_by = large - small.len();
    let alice = node.subject("alice");
    let grown = growth::grow(node, chain, alice, grow_by);
    println!(
        "state growth:                  {grow_by} registrations committed in {:.0} s ({:.0} tx/s; client signing before it: {:.0} s)",
        grown.secs,
        grow_by as f64 / grown.secs,
        grown.signing_secs
    );
    let data = node.home.join("data");
    let free = free_bytes(&node.home).map_or(f64::NAN, mib);
    println!(
        "node home on disk at {large} records: {:>7.0} MiB (file system free: {free:.0} MiB)",
        mib(dir_bytes(&node.home))
    );
    if data.is_dir() {
        println!(
            "  of which data/:               {:>7.0} MiB",
            mib(dir_bytes(&data))
        );
    }
    let rss = |kib: Option<u64>| kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    println!(
        "node peak RSS after growth:    {:>9.0} MiB",
        rss(grown.peak_rss_kib)
    );

    let settled = disk::wait_compacted(node, Duration::from_secs(120));
    println!(
        "compaction after growth:       {:>9.1} s (waited for, before measuring)",
        settled.as_secs_f64()
    );
    let mut rng = Rng::new(13);
    let picked = rng.distinct(&grown.records, count);
    let before = disk::usage(node);
    let run = transfer_run(
        node,
        chain,
        &node.key("alice"),
        &picked,
        node.subject("bob"),
    );
    let after = disk::usage(node);
    println!(
        "node committed transfers at {large} records: {:>9.0} tx/s ({count} random records of the growth; admitted {:.0} tx/s)",
        run.committed, run.admitted
    );
    println!(
        "ratio large / small state:     {:>9.2}  (target >= 0.80)",
        run.committed / small_rate
    );
    println!("where the time goes, µs per transfer: {}", run.stages);
    disk::print_per_transfer(&before, &after, count);
    println!(
        "node peak RSS so far:          {:>9.0} MiB",
        rss(node.peak_rss_kib())
    );

    let moved_set: std::collections::HashSet<Hash32> = picked.iter().copied().collect();
    let alices = grown
        .records
        .iter()
        .copied()
        .filter(|r| !moved_set.contains(r))
        .collect();
    let mut moved = small.to_vec();
    moved.extend(picked);
    let mut all = small.to_vec();
    all.extend(grown.records);
    LargeState { all, alices, moved }
}

/// Queries per second on the node: `record_get` beside a bare jsonrpsee server
/// answering the same JSON to the same client, then `record_byOwner` and
/// `record_history`.
///
/// `record_get` is measured in this order: the node's first seconds after the
/// transfers (its RocksDB block cache holds only the blocks the transfers read,
/// so most queries read a block from the files); then, after a warm-up of
/// the same load on other random ids, the node and the bare server in alternating
/// windows, whose medians give the ratio (a node that has served queries for a
/// while, and both servers exposed to the same drift of the shared machine).
pub fn queries(node: &Node, state: &LargeState) {
    // Each window asks its own random ids, more than it can send, so no id is
    // asked twice on purpose (the node does not cache what RPC reads; RocksDB
    // caches the blocks they were read from).
    const REQUESTS: usize = 200_000;
    const WARM_UP: Duration = Duration::from_secs(10);
    const WINDOWS: usize = 3;
    let duration = Duration::from_secs(3);
    let window = Duration::from_secs(2);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let connections = 2 * cores;
    let mut rng = Rng::new(62);
    let all = &state.all;
    // The bare server answers every query with this random record's JSON.
    let sample = all[rng.below(all.len())];
    let mut random_gets = || {
        let ids = (0..REQUESTS).map(|_| all[rng.below(all.len())]);
        Query::RecordGet(Arc::new(ids.collect()))
    };
    let (first, warm_up) = (random_gets(), random_gets());
    let windows: Vec<Query> = (0..WINDOWS).map(|_| random_gets()).collect();
    let fixed = node.client().record_get(sample).expect("record_get");
    let bare = BareServer::start(json!(fixed), cores);
    let bare_url = format!("http://{}", bare.addr);
    let threads = cores;
    let cold = load(&node.rpc_url, &first, connections, threads, duration);
    let _ = load(&node.rpc_url, &warm_up, connections, threads, WARM_UP);
    let urls = [node.rpc_url.as_str(), bare_url.as_str()];
    let [on_node, on_bare] = alternating(urls, &windows, connections, threads, window);
    drop(bare);
    let (node_rate, bare_rate) = (median(&on_node), median(&on_bare));
    let spread = |loads: &[Load]| {
        let rates: Vec<String> = loads.iter().map(|l| format!("{:.0}", l.qps)).collect();
        rates.join(", ")
    };
    println!(
        "record_get, node, first {} s:  {:>9.0} q/s (random of {} records, block cache not yet warmed by queries; {connections} typed clients)",
        duration.as_secs(),
        cold.qps,
        all.len()
    );
    println!(
        "record_get, node:              {:>9.0} q/s (median of {WINDOWS} windows of {} s: {}; after {} s of warm-up on other ids)",
        node_rate,
        window.as_secs(),
        spread(&on_node),
        WARM_UP.as_secs()
    );
    println!(
        "record_get, bare jsonrpsee:    {:>9.0} q/s (same JSON, same client, alternating windows: {})",
        bare_rate,
        spread(&on_bare)
    );
    println!(
        "ratio node / bare:             {:>9.2}  (target >= 0.70; first seconds: {:.2})",
        node_rate / bare_rate,
        cold.qps / bare_rate
    );

    let alices = &state.alices;
    let cursors = (0..REQUESTS / 10).map(|_| alices[rng.below(alices.len())]);
    let pages = Query::ByOwner {
        owner: node.subject("alice"),
        cursors: Arc::new(cursors.collect()),
    };
    let by_owner = load(&node.rpc_url, &pages, connections, threads, duration);
    println!(
        "record_byOwner, node:          {:>9.0} q/s (100-record pages of alice's {}, random cursor)",
        by_owner.qps,
        alices.len()
    );
    let moved = &state.moved;
    let histories = (0..REQUESTS).map(|_| moved[rng.below(moved.len())]);
    let histories = Query::History(Arc::new(histories.collect()));
    let history = load(&node.rpc_url, &histories, connections, threads, duration);
    println!(
        "record_history, node:          {:>9.0} q/s (2-entry histories, random of {} records)",
        history.qps,
        moved.len()
    );
    let windows: u64 = on_node.iter().chain(&on_bare).map(|l| l.errors).sum();
    let errors = cold.errors + windows + by_owner.errors + history.errors;
    if errors > 0 {
        println!("query errors (not counted above): {errors}");
    }
}
