//! `tamga-bench-cluster`: a 4-validator devnet (four `tamga` processes on this
//! machine) beside the machine's own limit, measured in the same run:
//!
//! * limit = cores / (validators × per-transfer verify+apply cost): every
//!   validator verifies and executes every transaction, all on these cores;
//! * committed transfers/s at full load: pre-signed transfers submitted to all four
//!   nodes at once (each owner to its own node), timed until the last commits;
//! * submit-to-final latency p50/p99 at half that load, observed as block notices
//!   on node0's WebSocket subscription.
//!
//! Run it through `scripts/bench.sh`.

use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tamga_runtime::types::SignedTx;
use tamga_runtime::Hash32;
use tamga_tests::bench::{arg, one_core_limit, registrations, submit_all, transfers};
use tamga_tests::cluster::{wait_committed, Cluster, SIGNERS};
use tamga_tests::Node;

const VALIDATORS: usize = 4;
const WAIT: Duration = Duration::from_secs(300);
/// Submission ticks in the latency run.
const TICK: Duration = Duration::from_millis(50);

/// Registers `per_owner` records for each of the four owners; returns their ids.
fn setup(node: &Node, chain: &str, per_owner: usize) -> Vec<Vec<Hash32>> {
    let registrar = node.key("registrar");
    let mut all = vec![];
    for (k, owner) in SIGNERS.iter().enumerate() {
        let first = (k * per_owner) as u64;
        all.push(registrations(
            chain,
            &registrar,
            node.subject(owner),
            per_owner,
            first,
        ));
    }
    // One owner at a time, so the mempool bound holds whatever the count.
    for txs in &all {
        submit_all(node, txs);
        let last = txs.last().expect("setup txs");
        wait_committed(node, &last.id().to_hex(), WAIT).expect("setup commits");
    }
    all.iter()
        .map(|txs| {
            txs.iter()
                .map(|tx| {
                    let done = node.rpc("tx_get", json!([tx.id()])).expect("tx_get");
                    let id = done["events"][0]["registered"]["record"]
                        .as_str()
                        .expect("record");
                    Hash32::from_hex(id).expect("hex")
                })
                .collect()
        })
        .collect()
}

/// Full load: each owner's transfers to its own node, all at once.
fn full_load(cluster: &Cluster, streams: &[Vec<SignedTx>]) -> f64 {
    let count: usize = streams.iter().map(Vec::len).sum();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (k, txs) in streams.iter().enumerate() {
            let node = cluster.node(k);
            scope.spawn(move || submit_all(node, txs));
        }
    });
    for txs in streams {
        let last = txs.last().expect("transfers");
        wait_committed(cluster.node(0), &last.id().to_hex(), WAIT).expect("commits");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// Commit instants of transaction ids, heard on a WebSocket block subscription.
fn listen(node: &Node) -> Arc<Mutex<HashMap<String, Instant>>> {
    let heard = Arc::new(Mutex::new(HashMap::new()));
    let (url, sink) = (format!("ws://{}", node.addr), heard.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let client = jsonrpsee_ws_client::WsClientBuilder::default()
                .build(&url)
                .await
                .expect("ws connect");
            let mut sub = client
                .subscribe::<Value, _>("block_subscribe", rpc_params![], "block_unsubscribe")
                .await
                .expect("subscribe");
            let _ = ready_tx.send(());
            while let Some(Ok(notice)) = sub.next().await {
                let now = Instant::now();
                let mut heard = sink.lock().unwrap();
                for id in notice["txs"].as_array().into_iter().flatten() {
                    heard.insert(id.as_str().unwrap_or_default().to_owned(), now);
                }
            }
        });
    });
    ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("subscribed");
    heard
}

/// Paced submission at `rate` tx/s; returns each id's submit instant.
fn paced(cluster: &Cluster, streams: &[Vec<SignedTx>], rate: f64) -> HashMap<String, Instant> {
    let per_tick = ((rate * TICK.as_secs_f64()) / streams.len() as f64)
        .ceil()
        .max(1.0) as usize;
    let mut sent = HashMap::new();
    let mut offset = 0;
    let mut next = Instant::now();
    while streams.iter().any(|s| offset < s.len()) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += TICK;
        for (k, txs) in streams.iter().enumerate() {
            let chunk = &txs[offset.min(txs.len())..(offset + per_tick).min(txs.len())];
            if chunk.is_empty() {
                continue;
            }
            let now = Instant::now();
            submit_all(cluster.node(k), chunk);
            sent.extend(chunk.iter().map(|tx| (tx.id().to_hex(), now)));
        }
        offset += per_tick;
    }
    sent
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    let (count, block_time_ms) = (arg(1, 16_000) as usize, arg(2, 200));
    assert!(
        (400..=16_000).contains(&count),
        "transfers at full load must be 400..=16000 (mempool bound)"
    );
    let mut cluster = Cluster::create(VALIDATORS, 0, block_time_ms);
    // Each owner submits a quarter of the load: lift the per-signer quota to
    // the mempool's size (the benchmark measures throughput, not fairness).
    cluster.configure(|config| {
        config["mempool"]["signer_txs_max"] = toml::Value::Integer(20_000);
    });
    for i in 0..VALIDATORS {
        cluster.start(i);
    }
    cluster.wait_height(2, WAIT).expect("cluster starts");
    let node0 = cluster.node(0);
    let chain = node0.rpc("node_status", json!([])).unwrap()["chain_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let one_core = one_core_limit(node0, &chain, 5_000);
    let limit = cores as f64 * one_core / VALIDATORS as f64;

    // Each owner: `full` transfers at full load, then half as many paced.
    let full = count / SIGNERS.len();
    let per_owner = full + full / 2;
    let records = setup(node0, &chain, per_owner);
    let to = node0.subject("registrar");
    let stream = |k: usize, range: std::ops::Range<usize>, nonce: u64| {
        transfers(
            &chain,
            &node0.key(SIGNERS[k]),
            &records[k][range],
            to,
            nonce,
        )
    };
    let loaded: Vec<_> = (0..4).map(|k| stream(k, 0..full, 0)).collect();
    let rate = full_load(&cluster, &loaded);

    let heard = listen(node0);
    let paced_streams: Vec<_> = (0..4)
        .map(|k| stream(k, full..per_owner, full as u64))
        .collect();
    let sent = paced(&cluster, &paced_streams, rate / 2.0);
    for txs in &paced_streams {
        wait_committed(node0, &txs.last().unwrap().id().to_hex(), WAIT).expect("commits");
    }
    std::thread::sleep(Duration::from_millis(500));
    let heard = heard.lock().unwrap();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, at)| {
            heard
                .get(id)
                .map(|done| done.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort();
    assert!(
        !latencies.is_empty(),
        "no commit was heard on the subscription"
    );

    println!(
        "4 validators, {cores} cores, block time {block_time_ms} ms, {} transfers at full load",
        full * 4
    );
    println!(
        "per-transfer verify+apply:     {:>9.1} µs (one core)",
        1e6 / one_core
    );
    println!("machine limit:                 {limit:>9.0} tx/s  (cores / (validators x cost))");
    println!("committed transfers:           {rate:>9.0} tx/s");
    println!(
        "ratio committed / limit:       {:>9.2}  (goal >= 0.50, later 0.70)",
        rate / limit
    );
    println!(
        "latency at {:.0} tx/s (half):    p50 {:>5} ms  p99 {:>5} ms  (goal p99 < 1500 ms; {} of {} heard)",
        rate / 2.0,
        percentile(&latencies, 0.50).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        latencies.len(),
        sent.len()
    );
}
