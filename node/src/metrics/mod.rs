//! The node's Prometheus metrics: what an operator watches on every serious node
//! (height, rounds, block interval, committed transactions, mempool, peers, sync
//! lag, RPC latency per method, contract fuel). One [`Metrics`] per node, kept in
//! the [`App`](crate::app::App); the places that know a value update it (the
//! consensus host, the app's commit, the mempool's callers, the peer watchers, the
//! RPC middleware), and `GET /metrics` on the RPC port ([`http`]) renders it in
//! the text exposition format (OpenMetrics 1.0, which Prometheus scrapes).
//!
//! Label values are bounded: only the RPC methods the server serves become
//! labels ([`rpc`]), and the peer gauge has two fixed networks.

pub mod http;
pub mod rpc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::{Mutex, OnceLock};

/// The label of one RPC method's latency (a name the server serves, or
/// [`rpc::UNKNOWN_METHOD`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    pub method: &'static str,
}

/// Which peer-to-peer network a peer count is for.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NetworkLabel {
    pub network: &'static str,
}

/// Peers on the consensus network (Malachite's swarm).
pub const CONSENSUS_NETWORK: &str = "consensus";
/// Peers on the transaction gossip network (the node's own swarm).
pub const GOSSIP_NETWORK: &str = "gossip";

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn rpc_histogram() -> Histogram {
    // 50 µs .. ~3.3 s, doubling.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 17))
}

/// Every metric the node exports, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    /// The last committed block's height.
    pub height: Gauge,
    /// The height and round consensus is in.
    pub consensus_height: Gauge,
    pub round: Gauge,
    /// Rounds a height took to decide (1 when the first round decided).
    pub rounds_per_height: Histogram,
    /// BFT time between consecutive committed blocks, in seconds.
    pub block_interval: Histogram,
    pub blocks_committed: Counter,
    pub transactions_committed: Counter,
    /// Contract fuel spent by committed blocks.
    pub contract_fuel: Counter,
    pub mempool_transactions: Gauge,
    pub mempool_bytes: Gauge,
    pub peers: Family<NetworkLabel, Gauge>,
    /// The highest height peers report (Malachite's sync status); 0 when none has.
    pub sync_target: Gauge,
    /// How far the committed height is below `sync_target` (never negative).
    pub sync_lag: Gauge,
    /// Latency of JSON-RPC calls per method, in seconds.
    pub rpc_latency: Histograms<MethodLabel>,
    /// The method names the server serves, once it has registered them.
    pub rpc_methods: OnceLock<rpc::MethodNames>,
    /// Held while `height`, `sync_target` and `sync_lag` change together and
    /// while a scrape renders them, so a scrape never shows a lag that is not
    /// its target less its height.
    position: Mutex<()>,
    /// Woken when a peer's report changes the sync target, so a node that
    /// learns it is far behind shows its catch-up at once, not at a tick.
    target_changed: tokio::sync::Notify,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("tamga"),
            height: Gauge::default(),
            consensus_height: Gauge::default(),
            round: Gauge::default(),
            rounds_per_height: Histogram::new([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0]),
            block_interval: Histogram::new(exponential_buckets(0.05, 2.0, 12)),
            blocks_committed: Counter::default(),
            transactions_committed: Counter::default(),
            contract_fuel: Counter::default(),
            mempool_transactions: Gauge::default(),
            mempool_bytes: Gauge::default(),
            peers: Family::default(),
            sync_target: Gauge::default(),
            sync_lag: Gauge::default(),
            rpc_latency: Family::new_with_constructor(rpc_histogram),
            rpc_methods: OnceLock::new(),
            position: Mutex::new(()),
            target_changed: tokio::sync::Notify::new(),
        };
        metrics.register();
        // Present from the start: no peers until a network says otherwise.
        metrics.set_peers(CONSENSUS_NETWORK, 0);
        metrics.set_peers(GOSSIP_NETWORK, 0);
        metrics
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "height",
            "Height of the last committed block",
            self.height.clone(),
        );
        r.register(
            "consensus_height",
            "Height consensus is deciding",
            self.consensus_height.clone(),
        );
        r.register(
            "consensus_round",
            "Round consensus is in at consensus_height",
            self.round.clone(),
        );
        r.register(
            "rounds_per_height",
            "Rounds each committed height took to decide",
            self.rounds_per_height.clone(),
        );
        r.register_with_unit(
            "block_interval",
            "BFT time between consecutive committed blocks",
            Unit::Seconds,
            self.block_interval.clone(),
        );
        r.register(
            "blocks_committed",
            "Blocks committed since the node started",
            self.blocks_committed.clone(),
        );
        r.register(
            "transactions_committed",
            "Transactions in blocks committed since the node started",
            self.transactions_committed.clone(),
        );
        r.register(
            "contract_fuel_used",
            "Contract fuel spent by blocks committed since the node started",
            self.contract_fuel.clone(),
        );
        r.register(
            "mempool_transactions",
            "Transactions waiting in the mempool",
            self.mempool_transactions.clone(),
        );
        r.register_with_unit(
            "mempool",
            "Encoded size of the transactions waiting in the mempool",
            Unit::Bytes,
            self.mempool_bytes.clone(),
        );
        r.register(
            "peers",
            "Connected peers, per peer-to-peer network",
            self.peers.clone(),
        );
        r.register(
            "sync_target_height",
            "Highest committed height a peer reports (0: none reported)",
            self.sync_target.clone(),
        );
        r.register(
            "sync_lag_blocks",
            "Blocks the committed height is below sync_target_height",
            self.sync_lag.clone(),
        );
        r.register_with_unit(
            "rpc_request_duration",
            "JSON-RPC call latency per method",
            Unit::Seconds,
            self.rpc_latency.clone(),
        );
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _position = self.lock_position();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Consensus entered `round` at `height`.
    pub fn round_started(&self, height: u64, round: i64) {
        self.consensus_height.set(gauge_value(height));
        self.round.set(round);
    }

    /// A block at `height` was decided in `round` (0-based).
    pub fn decided(&self, round: i64) {
        self.rounds_per_height.observe((round.max(0) + 1) as f64);
    }

    /// A block committed: `interval_ms` after its parent (`None` for the first).
    pub fn committed(&self, height: u64, interval_ms: Option<u64>, txs: usize, fuel: u64) {
        self.blocks_committed.inc();
        self.transactions_committed.inc_by(txs as u64);
        self.contract_fuel.inc_by(fuel);
        if let Some(ms) = interval_ms {
            self.block_interval.observe(ms as f64 / 1000.0);
        }
        self.set_height(height);
    }

    /// The committed height (at start, and after each commit).
    pub fn set_height(&self, height: u64) {
        let _position = self.lock_position();
        self.height.set(gauge_value(height));
        self.update_lag();
    }

    /// The highest height a peer reports (0: no peer has).
    pub fn set_sync_target(&self, height: u64) {
        let _position = self.lock_position();
        let previous = self.sync_target.set(gauge_value(height));
        self.update_lag();
        if previous != gauge_value(height) {
            // Stores a permit when nobody waits: the next wait returns at once.
            self.target_changed.notify_one();
        }
    }

    /// Returns when the sync target has changed since the last return.
    pub async fn sync_target_changed(&self) {
        self.target_changed.notified().await;
    }

    fn update_lag(&self) {
        let lag = (self.sync_target.get() - self.height.get()).max(0);
        self.sync_lag.set(lag);
    }

    /// Nothing held under this lock can panic, so a poisoned lock still
    /// guards consistent gauges.
    fn lock_position(&self) -> std::sync::MutexGuard<'_, ()> {
        self.position.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_mempool(&self, transactions: usize, bytes: usize) {
        self.mempool_transactions
            .set(gauge_value(transactions as u64));
        self.mempool_bytes.set(gauge_value(bytes as u64));
    }

    pub fn set_peers(&self, network: &'static str, count: usize) {
        let gauge = self.peers.get_or_create(&NetworkLabel { network });
        gauge.set(gauge_value(count as u64));
    }

    /// The committed height and the highest a peer reports, for progress.
    pub fn sync_position(&self) -> (u64, u64) {
        let _position = self.lock_position();
        let height = u64::try_from(self.height.get()).unwrap_or(0);
        let target = u64::try_from(self.sync_target.get()).unwrap_or(0);
        (height, target)
    }
}

fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_target_minus_height_and_never_negative() {
        let metrics = Metrics::new();
        metrics.set_height(10);
        metrics.set_sync_target(25);
        assert_eq!(metrics.sync_lag.get(), 15);
        metrics.committed(30, Some(1000), 2, 7);
        assert_eq!(metrics.sync_lag.get(), 0);
        assert_eq!(metrics.sync_position(), (30, 25));
    }

    #[tokio::test]
    async fn a_new_target_wakes_the_catch_up_display_and_the_same_one_does_not() {
        let metrics = Metrics::new();
        let soon = std::time::Duration::from_millis(50);
        metrics.set_sync_target(25);
        let woken = tokio::time::timeout(soon, metrics.sync_target_changed()).await;
        assert!(woken.is_ok(), "a new target wakes the waiter");
        metrics.set_sync_target(25);
        let woken = tokio::time::timeout(soon, metrics.sync_target_changed()).await;
        assert!(woken.is_err(), "an unchanged target does not");
    }

    #[test]
    fn render_names_every_metric() {
        let metrics = Metrics::new();
        metrics.committed(3, Some(500), 4, 100);
        metrics.decided(1);
        metrics.set_mempool(2, 300);
        metrics.set_peers(CONSENSUS_NETWORK, 3);
        let text = metrics.render();
        for line in [
            "tamga_height 3",
            "tamga_transactions_committed_total 4",
            "tamga_contract_fuel_used_total 100",
            "tamga_mempool_transactions 2",
            "tamga_mempool_bytes 300",
            "tamga_peers{network=\"consensus\"} 3",
            "tamga_rounds_per_height_count 1",
            "tamga_block_interval_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
