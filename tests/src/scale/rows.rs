//! The printed rows of issue 13's benchmark: the state grown to a large number of
//! records, transfers on it beside the same workload at a small state, where the
//! disk bytes of a transfer go, and query rates beside a bare jsonrpsee server.

use super::query::{alternating, load, median, BareServer, Load, Query};
use super::{dir_bytes, disk, free_bytes, growth, mib, Rng, Windows, WINDOWS};
use crate::Node;
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
    /// Committed transfers per second at the large state.
    pub rate: f64,
}

/// Grows the state from `small.len()` to `large` records (all new ones alice's),
/// then transfers [`WINDOWS`] windows of `count` of them each (other records,
/// picked at random) to bob: the median window's committed rate beside
/// `small_rate` (the same workload at the small state), the disk bytes per
/// transfer by column family over the windows, and the node's memory and data
/// directory.
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
    println!(
        "kernel's pages before windows: {}",
        super::kernel_dirty_line()
    );
    let mut rng = Rng::new(13);
    let picked = rng.distinct(&grown.records, WINDOWS * count);
    let (alice_key, bob) = (node.key("alice"), node.subject("bob"));
    let windows = Windows::run("large-state", node, chain, |i| {
        (&alice_key, &picked[i * count..(i + 1) * count], bob)
    });
    let run = windows.median();
    println!(
        "node committed transfers at {large} records: {:>9.0} tx/s ({}; each window {count} other random records of the growth; admitted {:.0} tx/s)",
        run.committed, windows.rates(), run.admitted
    );
    println!(
        "ratio large / small state:     {:>9.3}  (target >= 0.80)",
        run.committed / small_rate
    );
    println!("where the time goes, µs per transfer: {}", run.stages);
    println!("{}", windows.flushed_line());
    let (before, after) = windows.disk();
    disk::print_per_transfer(before, after, WINDOWS * count);
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
    // Moved once each: two-entry histories. Not the small state's records,
    // which its windows moved back and forth (four entries each).
    let moved = picked;
    let mut all = small.to_vec();
    all.extend(grown.records);
    LargeState {
        all,
        alices,
        moved,
        rate: run.committed,
    }
}

/// Queries per second on the node: `record_get` beside a bare jsonrpsee server
/// answering the same JSON to the same client, then `record_byOwner` and
/// `record_history`.
pub fn queries(node: &Node, state: &LargeState) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let clients = Clients {
        connections: 2 * cores,
        threads: cores,
    };
    let mut rng = Rng::new(62);
    let get_errors = record_gets(node, &state.all, &clients, &mut rng);
    print_caches(node);
    let page_errors = pages(node, state, &clients, &mut rng);
    if get_errors + page_errors > 0 {
        println!(
            "query errors (not counted above): {}",
            get_errors + page_errors
        );
    }
}

/// What RocksDB's block cache and the node's own state-value and tree-node
/// caches hold after the `record_get` windows, beside their bounds: whether the
/// large state fits in them (the windows' reads then come from memory) or not.
fn print_caches(node: &Node) {
    let usage = node.client().node_storage().expect("node_storage");
    let block = usage.block_cache;
    println!(
        "block cache after record_get:  {:>6.0} of {:.0} MiB ({:.0} MiB pinned)",
        mib(block.usage_bytes),
        mib(block.capacity_bytes),
        mib(block.pinned_bytes)
    );
    for (name, cache) in [("state", usage.state_cache), ("tree", usage.tree_cache)] {
        println!(
            "{name:<5} cache after record_get:  {:>6.0} of {:.0} MiB ({} entries)",
            mib(cache.usage_bytes),
            mib(cache.capacity_bytes),
            cache.entries
        );
    }
}

/// How many typed clients ask at once, on how many threads of the bench.
struct Clients {
    connections: usize,
    threads: usize,
}

impl Clients {
    fn load(&self, url: &str, query: &Query, duration: Duration) -> Load {
        load(url, query, self.connections, self.threads, duration)
    }
}

/// `record_get` on the node beside the bare server; returns the errors counted.
///
/// In this order: the node's first seconds after the transfers (its RocksDB
/// block cache holds only the blocks the transfers read, so most queries read a
/// block from the files), with one bare window right after for their ratio;
/// then, after a warm-up of the same load on other ids, the node and the bare
/// server in alternating windows, whose medians give the ratio (a node that has
/// served queries for a while, both servers exposed to the same drift of the
/// shared machine).
///
/// Each phase asks ids of its own: the records, shuffled, are split between
/// them, so no id is asked twice while each connection stays within its share.
/// (An RPC read adds nothing to the node's value cache, though a hit there
/// refreshes the entry; RocksDB caches the blocks reads come from, and that is
/// what the warm-up fills.) Ids asked again are printed.
fn record_gets(node: &Node, all: &[Hash32], clients: &Clients, rng: &mut Rng) -> u64 {
    const GET_WINDOWS: usize = 3;
    let secs = Duration::from_secs;
    let (first_secs, window) = (secs(FIRST_SECS), secs(WINDOW_SECS));
    // The bare server answers every query with this random record, typed.
    let fixed = node.client().record_get(all[rng.below(all.len())]);
    let bare = BareServer::start(fixed.expect("record_get"), clients.threads);
    let bare_url = format!("http://{}", bare.addr);
    // A tenth for the first seconds, four for the warm-up, the rest for the windows.
    let shuffled = rng.distinct(all, all.len());
    let ids = |range: std::ops::Range<usize>| Query::RecordGet(Arc::new(shuffled[range].to_vec()));
    let (tenth, n) = (all.len() / 10, all.len());
    let (first, warm_up) = (ids(0..tenth), ids(tenth..5 * tenth));
    let per_window = (n - 5 * tenth) / GET_WINDOWS;
    let windows: Vec<Query> = (0..GET_WINDOWS)
        .map(|w| ids(5 * tenth + w * per_window..5 * tenth + (w + 1) * per_window))
        .collect();

    let cold = clients.load(&node.rpc_url, &first, first_secs);
    let bare_then = clients.load(&bare_url, &first, window);
    let warm = clients.load(&node.rpc_url, &warm_up, secs(WARM_UP_SECS));
    let urls = [node.rpc_url.as_str(), bare_url.as_str()];
    let (c, t) = (clients.connections, clients.threads);
    let [on_node, on_bare] = alternating(urls, &windows, c, t, window);
    drop(bare);
    print_gets(&cold, &bare_then, &on_node, &on_bare, all.len(), c);
    let reused: u64 = on_node.iter().map(|l| l.reused).sum();
    if cold.reused + warm.reused + reused > 0 {
        println!(
            "record_get ids asked again (too few records for these rates): first {}, warm-up {}, windows {reused}",
            cold.reused, warm.reused
        );
    }
    let loads = [&cold, &bare_then, &warm]
        .into_iter()
        .chain(&on_node)
        .chain(&on_bare);
    loads.map(|l| l.errors).sum()
}

/// The `record_get` phases' lengths: the first seconds, the warm-up, each window.
const FIRST_SECS: u64 = 3;
const WARM_UP_SECS: u64 = 10;
const WINDOW_SECS: u64 = 2;

/// The `record_get` rows: the first seconds, the windows' medians and the ratios.
fn print_gets(
    cold: &Load,
    bare_then: &Load,
    on_node: &[Load],
    on_bare: &[Load],
    records: usize,
    connections: usize,
) {
    let (node_rate, bare_rate) = (median(on_node), median(on_bare));
    let spread = |loads: &[Load]| {
        let rates: Vec<String> = loads.iter().map(|l| format!("{:.0}", l.qps)).collect();
        rates.join(", ")
    };
    println!(
        "record_get, node, first {FIRST_SECS} s:   {:>9.0} q/s (random of {records} records, block cache not yet warmed by queries; {connections} typed clients)",
        cold.qps
    );
    println!(
        "record_get, bare, just after:  {:>9.0} q/s (first seconds / bare: {:.2})",
        bare_then.qps,
        cold.qps / bare_then.qps
    );
    println!(
        "record_get, node:              {node_rate:>9.0} q/s (median of {} windows of {WINDOW_SECS} s: {}; after {WARM_UP_SECS} s of warm-up on other ids)",
        on_node.len(),
        spread(on_node)
    );
    println!(
        "record_get, bare jsonrpsee:    {bare_rate:>9.0} q/s (same JSON, same client, alternating windows: {})",
        spread(on_bare)
    );
    println!(
        "ratio node / bare:             {:>9.3}  (target >= 0.70)",
        node_rate / bare_rate
    );
}

/// `record_byOwner` and `record_history` pages on the node; returns the errors.
fn pages(node: &Node, state: &LargeState, clients: &Clients, rng: &mut Rng) -> u64 {
    const PAGES: usize = 20_000;
    const HISTORIES: usize = 200_000;
    let duration = Duration::from_secs(3);
    let alices = &state.alices;
    let cursors = (0..PAGES).map(|_| alices[rng.below(alices.len())]);
    let pages = Query::ByOwner {
        owner: node.subject("alice"),
        cursors: Arc::new(cursors.collect()),
    };
    let by_owner = clients.load(&node.rpc_url, &pages, duration);
    println!(
        "record_byOwner, node:          {:>9.0} q/s (100-record pages of alice's {}, random cursor)",
        by_owner.qps,
        alices.len()
    );
    let moved = &state.moved;
    let histories = (0..HISTORIES).map(|_| moved[rng.below(moved.len())]);
    let histories = Query::History(Arc::new(histories.collect()));
    let history = clients.load(&node.rpc_url, &histories, duration);
    println!(
        "record_history, node:          {:>9.0} q/s (2-entry histories, random of {} records)",
        history.qps,
        moved.len()
    );
    by_owner.errors + history.errors
}
