//! `tamga-bench-cluster`: a 4-validator devnet (four `tamga` processes on this
//! machine) beside the machine's own limit, measured in the same run:
//!
//! * limit = cores / (validators × per-transfer verify+apply cost): every
//!   validator verifies and executes every transaction, all on these cores;
//! * committed transfers/s at full load: pre-signed transfers submitted to all four
//!   nodes at once (each owner to its own node), timed until the last commits;
//! * catch-up: a full node started only after the full load replays the chain
//!   from its peers (value sync); its replayed transactions per second beside
//!   the one-core verify+apply rate (the validators are idle meanwhile, and it
//!   is stopped again before the latency runs), with the CPU time it used and,
//!   when the node reports them, its own stage timings per transaction;
//! * submit-to-final latency p50/p99 at half the full-load rate, observed as
//!   block notices on node0's WebSocket subscription: at the given block time,
//!   then again after every validator is restarted with the second one.
//!
//! Usage: `tamga-bench-cluster [TRANSFERS] [BLOCK_TIME_MS] [SECOND_BLOCK_TIME_MS]`
//! (16000, 200, 100). Run it through `scripts/bench.sh`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tamga_runtime::records::Event;
use tamga_runtime::types::SignedTx;
use tamga_runtime::Hash32;
use tamga_tests::bench::{arg, one_core_limit, registrations, submit_all, transfers, StageReading};
use tamga_tests::cluster::{cpu_time, wait_committed, Cluster, SIGNERS};
use tamga_tests::profile::Profile;
use tamga_tests::Node;

const VALIDATORS: usize = 4;
const WAIT: Duration = Duration::from_secs(300);
/// Submission ticks in the latency run.
const TICK: Duration = Duration::from_millis(50);
/// The full node that joins late (after the validators, index 4).
const LATE: usize = VALIDATORS;

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
        wait_committed(node, last.id(), WAIT).expect("setup commits");
    }
    all.iter()
        .map(|txs| {
            txs.iter()
                .map(|tx| {
                    let done = node.client().tx_get(tx.id()).expect("tx_get");
                    match done.events() {
                        [Event::Registered { record, .. }, ..] => *record,
                        other => panic!("no record registered: {other:?}"),
                    }
                })
                .collect()
        })
        .collect()
}

/// Each validator's stage reading.
fn readings(cluster: &Cluster) -> Vec<StageReading> {
    (0..VALIDATORS)
        .map(|k| StageReading::of(cluster.node(k)))
        .collect()
}

/// "1.02 per transfer (16,112, 16,300, …)": signatures each validator checked
/// between two readings, over `count` committed transfers. Each must check
/// each transfer once; more is work done twice.
fn checks_per_transfer(before: &[StageReading], after: &[StageReading], count: usize) -> String {
    let checked: Vec<u64> = (after.iter().zip(before))
        .map(|(after, before)| after.checked_since(before))
        .collect();
    let per_transfer = checked.iter().sum::<u64>() as f64 / (count * checked.len()) as f64;
    let each: Vec<String> = checked.iter().map(u64::to_string).collect();
    format!(
        "{per_transfer:.3} per transfer per validator ({})",
        each.join(", ")
    )
}

/// Full load: each owner's transfers to its own node, all at once. Returns the
/// committed rate, the height holding the last, where node0's time went and
/// how many signatures each validator checked.
fn full_load(cluster: &Cluster, streams: &[Vec<SignedTx>]) -> (f64, u64, String, String) {
    let count: usize = streams.iter().map(Vec::len).sum();
    let profile = Profile::start("cluster");
    let before = readings(cluster);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (k, txs) in streams.iter().enumerate() {
            let node = cluster.node(k);
            scope.spawn(move || submit_all(node, txs));
        }
    });
    let mut height = 0;
    for txs in streams {
        let last = txs.last().expect("transfers");
        let done = wait_committed(cluster.node(0), last.id(), WAIT).expect("commits");
        height = height.max(done.height.expect("commit height"));
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    let after = readings(cluster);
    drop(profile);
    let stages = after[0].per_tx_since(&before[0], count);
    (
        rate,
        height,
        stages,
        checks_per_transfer(&before, &after, count),
    )
}

/// Commit instants of transaction ids, heard on a WebSocket block subscription.
fn listen(node: &Node) -> Arc<Mutex<HashMap<String, Instant>>> {
    let heard = Arc::new(Mutex::new(HashMap::new()));
    let (url, sink) = (node.rpc_url.clone(), heard.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let client = tamga_client::Client::new(&url).expect("client");
            let mut blocks = client.block_subscribe().await.expect("subscribe");
            let _ = ready_tx.send(());
            while let Ok(notice) = blocks.next().await {
                let now = Instant::now();
                let mut heard = sink.lock().unwrap();
                for id in notice.txs {
                    heard.insert(id.to_hex(), now);
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

/// Submit-to-final latencies of one paced run.
struct Latency {
    p50: Duration,
    p99: Duration,
    heard: usize,
    sent: usize,
}

/// Paces `streams` at `rate` and times each transfer from submission to the
/// block notice on node0's subscription; profiled as `section`.
fn latency(cluster: &Cluster, streams: &[Vec<SignedTx>], rate: f64, section: &str) -> Latency {
    let node0 = cluster.node(0);
    let heard = listen(node0);
    let profile = Profile::start(section);
    let sent = paced(cluster, streams, rate);
    for txs in streams {
        let last = txs.last().expect("paced transfers");
        wait_committed(node0, last.id(), WAIT).expect("commits");
    }
    drop(profile);
    std::thread::sleep(Duration::from_millis(500));
    let heard = heard.lock().expect("heard");
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
    Latency {
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        heard: latencies.len(),
        sent: sent.len(),
    }
}

/// Stops every validator (SIGTERM) and starts it again with another block time.
fn restart(cluster: &mut Cluster, block_time_ms: u64) {
    for i in 0..VALIDATORS {
        if let Some(mut node) = cluster.nodes[i].take() {
            node.stop();
        }
    }
    cluster.block_time_ms = block_time_ms;
    for i in 0..VALIDATORS {
        cluster.start(i);
    }
    let height = cluster.node(0).height();
    cluster
        .wait_height(height + 3, WAIT)
        .expect("the restarted validators commit");
}

/// A late node's replay of the chain from its peers.
struct CatchUp {
    blocks: u64,
    txs: usize,
    /// From spawning the process to reaching the validators' height.
    elapsed: Duration,
    /// From spawning the process to its RPC answering (opening its store).
    startup: Duration,
    /// From spawning the process to its first replayed block.
    first_block: Duration,
    /// CPU time (all threads) the late node used until it caught up.
    cpu: Option<Duration>,
    /// Where the late node's time went, µs per replayed transaction.
    stages: String,
}

/// Starts the late full node once node0 holds `height`, times it until it
/// reaches the height the validators held at that moment, then stops it (so it
/// takes no core from the latency runs).
fn catch_up(cluster: &mut Cluster, height: u64) -> CatchUp {
    let node0 = cluster.node(0);
    // A transaction reads as committed a moment before the tip moves.
    node0
        .wait_height(height, WAIT)
        .expect("node0 holds the load");
    let blocks = node0.height();
    let txs = (1..=blocks)
        .map(|h| {
            let block = node0.client().block_get(Some(h)).expect("block_get");
            block.txs.len()
        })
        .sum();
    let started = Instant::now();
    cluster.start(LATE);
    let startup = started.elapsed();
    let late = cluster.node(LATE);
    let deadline = started + WAIT;
    let mut first_block = None;
    loop {
        let height = late.height();
        if height > 0 && first_block.is_none() {
            first_block = Some(started.elapsed());
        }
        if height >= blocks {
            break;
        }
        assert!(Instant::now() < deadline, "the late node did not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time(late);
    let stages = StageReading::of(late).per_tx_since(&StageReading::default(), txs);
    cluster.kill9(LATE);
    CatchUp {
        blocks,
        txs,
        elapsed,
        startup,
        first_block: first_block.unwrap_or(elapsed),
        cpu,
        stages,
    }
}

fn print_latency(rate: f64, block_time_ms: u64, latency: &Latency) {
    let goal = 2 * block_time_ms;
    println!(
        "latency at {:.0} tx/s (half), {block_time_ms} ms blocks: p50 {:>5} ms  p99 {:>5} ms  \
         (goal p99 <= 2 block intervals = {goal} ms; p99/goal {:.3}; {} of {} heard)",
        rate / 2.0,
        latency.p50.as_millis(),
        latency.p99.as_millis(),
        latency.p99.as_secs_f64() * 1000.0 / goal as f64,
        latency.heard,
        latency.sent
    );
}

fn print_catch_up(caught: &CatchUp, one_core: f64, cores: usize) {
    let secs = caught.elapsed.as_secs_f64();
    let replayed = caught.txs as f64 / secs;
    println!(
        "catch-up (late full node):     {} blocks, {} txs in {secs:.2} s \
         (RPC up after {:.2} s, first block after {:.2} s)",
        caught.blocks,
        caught.txs,
        caught.startup.as_secs_f64(),
        caught.first_block.as_secs_f64()
    );
    println!("replayed transactions:         {replayed:>9.0} tx/s");
    println!(
        "ratio replayed / one core:     {:>9.3}  (target >= 0.80)",
        replayed / one_core
    );
    if let Some(cpu) = caught.cpu {
        println!(
            "late node CPU while replaying: {:>9.2} s  ({:.2} of {cores} cores busy)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() / secs
        );
    }
    println!("late node, µs per replayed tx: {}", caught.stages);
}

fn main() {
    let wall = Instant::now();
    let (count, block_time_ms, fast_ms) = (arg(1, 16_000) as usize, arg(2, 200), arg(3, 100));
    assert!(
        (400..=16_000).contains(&count),
        "transfers at full load must be 400..=16000 (mempool bound)"
    );
    let mut cluster = Cluster::create(VALIDATORS, 1, block_time_ms);
    // Each owner submits a quarter of the load: lift the per-signer quota to
    // the mempool's size (the benchmark measures throughput, not fairness).
    cluster.configure(|config| {
        config["mempool"]["signer_txs_max"] = toml::Value::Integer(20_000);
    });
    for i in 0..VALIDATORS {
        cluster.start(i);
    }
    cluster.wait_height(2, WAIT).expect("cluster starts");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    // Each owner: `full` transfers at full load, then `half` paced at each of
    // the two block times.
    let full = count / SIGNERS.len();
    let half = full / 2;
    let (one_core, loaded, slow, fast) = {
        let node0 = cluster.node(0);
        let chain = node0.client().node_status().expect("node_status").chain_id;
        let one_core = one_core_limit(node0, &chain, 5_000);
        let records = setup(node0, &chain, full + 2 * half);
        let to = node0.subject("registrar");
        let streams = |from: usize, to_index: usize| -> Vec<Vec<SignedTx>> {
            (0..SIGNERS.len())
                .map(|k| {
                    let key = node0.key(SIGNERS[k]);
                    transfers(&chain, &key, &records[k][from..to_index], to, from as u64)
                })
                .collect()
        };
        (
            one_core,
            streams(0, full),
            streams(full, full + half),
            streams(full + half, full + 2 * half),
        )
    };
    let limit = cores as f64 * one_core / VALIDATORS as f64;
    let (rate, loaded_height, stages, checks) = full_load(&cluster, &loaded);
    let caught = catch_up(&mut cluster, loaded_height);
    let slow_latency = latency(&cluster, &slow, rate / 2.0, "latency-first");
    restart(&mut cluster, fast_ms);
    let fast_latency = latency(&cluster, &fast, rate / 2.0, "latency-after-restart");
    drop(cluster);

    println!(
        "4 validators, {cores} cores, block time {block_time_ms} ms (then {fast_ms} ms), \
         {} transfers at full load",
        full * 4
    );
    println!(
        "per-transfer verify+apply:     {:>9.1} µs (one core)",
        1e6 / one_core
    );
    println!("machine limit:                 {limit:>9.0} tx/s  (cores / (validators x cost))");
    println!("committed transfers:           {rate:>9.0} tx/s");
    println!(
        "ratio committed / limit:       {:>9.3}  (target >= 0.65)",
        rate / limit
    );
    println!("node0, µs per transfer:        {stages}");
    println!("signatures checked:            {checks}");
    print_latency(rate, block_time_ms, &slow_latency);
    print_latency(rate, fast_ms, &fast_latency);
    print_catch_up(&caught, one_core, cores);
    println!(
        "wall time:                     {:>9.1} s",
        wall.elapsed().as_secs_f64()
    );
}
