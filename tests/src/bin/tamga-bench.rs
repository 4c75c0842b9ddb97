//! `tamga-bench`: throughput of a single-validator node beside the machine's own
//! limit, measured in the same run. Run it through `scripts/bench.sh`.
//!
//! * one-core limit: pre-signed transfers verified (ed25519) and applied to
//!   in-memory state on one thread, with no node around them;
//! * node: the same kind of transfers submitted over JSON-RPC (`tx_submitBatch`)
//!   to a real `tamga dev` process, counted when committed.

use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;
use tamga_runtime::state::Overlay;
use tamga_runtime::types::{encoding, Payload, SignedTx, Transaction};
use tamga_runtime::{apply_tx, verify_tx, BlockContext, Genesis, Hash32, PublicKey};
use tamga_tests::{registration, Node};

const CHAIN: &str = "tamga-dev";
const BATCH: usize = 1000;

fn transfers(
    signer: &ed25519_dalek::SigningKey,
    records: &[Hash32],
    to: PublicKey,
    first_nonce: u64,
) -> Vec<SignedTx> {
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let payload = Payload::Transfer {
                record: *record,
                to,
                amount: None,
            };
            let tx = Transaction {
                chain_id: CHAIN.into(),
                signer: PublicKey::of(signer),
                nonce: first_nonce + i as u64,
                payload,
            };
            tx.sign(signer)
        })
        .collect()
}

fn registrations(
    registrar: &ed25519_dalek::SigningKey,
    owner: PublicKey,
    count: usize,
    first_nonce: u64,
) -> Vec<SignedTx> {
    (0..count)
        .map(|i| {
            registration(
                registrar,
                owner,
                first_nonce + i as u64,
                format!("bench lot {i}"),
            )
        })
        .collect()
}

/// Verify + apply per second on one thread, in memory.
fn one_core_limit(node: &Node, count: usize) -> f64 {
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(node.home.join("genesis.json")).unwrap()).unwrap();
    let mut state: BTreeMap<Vec<u8>, Vec<u8>> = genesis
        .initial_writes()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect();
    let block = BlockContext {
        chain_id: CHAIN.into(),
        height: 1,
        time_ms: 1,
        vm: std::sync::Arc::new(tamga_runtime::contracts::Vm::new().expect("wasm engine")),
    };
    let (registrar, alice) = (node.key("registrar"), node.key("alice"));
    let mut records = Vec::with_capacity(count);
    let mut overlay = Overlay::new(&state);
    for tx in registrations(&registrar, PublicKey::of(&alice), count, 0) {
        let events = apply_tx(&mut overlay, &block, &verify_tx(tx, CHAIN).unwrap()).unwrap();
        records.push(events[0].records()[0]);
    }
    let writes = overlay.into_writes();
    state.extend(writes.into_iter().map(|(k, v)| (k, v.unwrap())));
    let txs = transfers(&alice, &records, node.public("bob"), 0);
    let mut overlay = Overlay::new(&state);
    let started = Instant::now();
    for tx in txs {
        let vtx = verify_tx(tx, CHAIN).expect("valid");
        apply_tx(&mut overlay, &block, &vtx).expect("applies");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// Submits in batches, in nonce order. `count` stays under the mempool bound, so
/// every transaction must be admitted.
fn submit_all(node: &Node, txs: &[SignedTx]) {
    for chunk in txs.chunks(BATCH) {
        let hexes: Vec<String> = chunk
            .iter()
            .map(|tx| hex::encode(encoding::encode(tx)))
            .collect();
        let results = node
            .rpc("tx_submitBatch", json!([hexes]))
            .expect("batch accepted");
        let refused: Vec<_> = results
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["hash"].is_string())
            .collect();
        assert!(refused.is_empty(), "refused: {:?}", refused.first());
    }
}

fn wait_committed(node: &Node, last: &SignedTx) {
    let hash = last.id().to_hex();
    node.wait_tx(&hash);
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    assert!(
        (1..=20_000).contains(&count),
        "count must be 1..=20000 (the default mempool bound)"
    );
    let block_time_ms: u64 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let node = Node::dev(block_time_ms);
    let limit = one_core_limit(&node, count);

    // Setup (not timed): register `count` records for alice.
    let (registrar, alice) = (node.key("registrar"), node.key("alice"));
    let setup = registrations(&registrar, node.public("alice"), count, 0);
    submit_all(&node, &setup);
    wait_committed(&node, setup.last().unwrap());
    let records: Vec<Hash32> = setup
        .iter()
        .map(|tx| {
            let done = node.rpc("tx_get", json!([tx.id()])).unwrap();
            Hash32::from_hex(done["events"][0]["registered"]["record"].as_str().unwrap()).unwrap()
        })
        .collect();

    let txs = transfers(&alice, &records, node.public("bob"), 0);
    let started = Instant::now();
    submit_all(&node, &txs);
    let admit_rate = count as f64 / started.elapsed().as_secs_f64();
    wait_committed(&node, txs.last().unwrap());
    let node_rate = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "transfers:                    {count} (block time {block_time_ms} ms, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("one-core limit (verify+apply): {limit:>9.0} tx/s");
    println!("node admitted (RPC, verified):  {admit_rate:>9.0} tx/s");
    println!("node committed transfers:      {node_rate:>9.0} tx/s");
    println!(
        "ratio node / limit:            {:>9.2}  (goal >= 0.80)",
        node_rate / limit
    );
}
