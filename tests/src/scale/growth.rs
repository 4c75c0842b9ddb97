//! Growing a node's state to a large number of records the way users would: the
//! registrar's registrations through `tx_submitBatch`, in chunks the mempool can
//! hold, each chunk's commit awaited before the pool could overflow. Record ids
//! are computed here exactly as the runtime derives them, so a million records
//! need no million `tx_get` calls.

use super::{wait_committed, POOL_TXS};
use crate::bench::{registrations, submit_all};
use crate::Node;
use std::time::{Duration, Instant};
use tamga_runtime::types::{hashing, SignedTx};
use tamga_runtime::{Hash32, PublicKey, SubjectId};

/// The record a committed registration creates: `hash(DOMAIN_RECORD_ID, tx id)`,
/// as `tamga_runtime::records::rules::register` derives it.
pub fn record_of(registration: &SignedTx) -> Hash32 {
    hashing::hash(&hashing::DOMAIN_RECORD_ID, &[&registration.id().0])
}

/// `count` registrations of tangible objects for `owner`, signed by `registrar`
/// with nonces from `first_nonce`, signed on every core.
pub fn sign_registrations(
    chain: &str,
    registrar: &ed25519_dalek::SigningKey,
    owner: SubjectId,
    first_nonce: u64,
    count: usize,
) -> Vec<SignedTx> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = count.div_ceil(cores).max(1);
    // Each thread signs its slice with the suite's one registration builder.
    let sign = |from: usize| {
        let n = per.min(count - from);
        registrations(chain, registrar, owner, n, first_nonce + from as u64)
    };
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..count)
            .step_by(per)
            .map(|from| s.spawn(move || sign(from)))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("signing thread"))
            .collect()
    })
}

/// Waits until the node's mempool holds at most `POOL_TXS - room` transactions.
fn wait_mempool_room(node: &Node, room: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let status = node.client().node_status().expect("node_status");
        if status.mempool_txs as usize + room <= POOL_TXS {
            return;
        }
        let held = status.mempool_txs;
        assert!(Instant::now() < deadline, "mempool still holds {held} txs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What growing the state took.
pub struct Growth {
    /// The new records, all owned by the growth's owner, in registration order.
    pub records: Vec<Hash32>,
    /// Seconds spent signing on the client (before submission, not in `secs`).
    pub signing_secs: f64,
    /// Seconds from the first submission to the last commit.
    pub secs: f64,
    /// The node's peak resident memory after the growth, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Registers `count` records for `owner`. Chunks of half the mempool bound: chunk
/// `k` is submitted once chunk `k - 2` has committed and left the mempool (a
/// node answers a transaction committed as soon as its block is written, a
/// moment before its mempool lets go of the block's transactions), so at most
/// two chunks are pending and every transaction is admitted. Progress goes to
/// stderr.
pub fn grow(node: &Node, chain: &str, owner: SubjectId, count: usize) -> Growth {
    let registrar = node.key("registrar");
    let first = node.next_nonce(&PublicKey::of(&registrar));
    let signing = Instant::now();
    let txs = sign_registrations(chain, &registrar, owner, first, count);
    let signing_secs = signing.elapsed().as_secs_f64();
    let records = txs.iter().map(record_of).collect();
    let chunks: Vec<&[SignedTx]> = txs.chunks(POOL_TXS / 2).collect();
    let timeout = Duration::from_secs(300);
    let started = Instant::now();
    let mut reported = 0;
    for (k, chunk) in chunks.iter().enumerate() {
        if k >= 2 {
            wait_committed(node, chunks[k - 2].last().expect("chunk"), timeout);
            wait_mempool_room(node, chunk.len(), timeout);
        }
        submit_all(node, chunk);
        let done = (k + 1) * POOL_TXS / 2;
        if done * 10 / count.max(1) > reported {
            reported = done * 10 / count.max(1);
            eprintln!(
                "  growth: {} of {count} submitted, {:.0} s",
                done.min(count),
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(last) = txs.last() {
        wait_committed(node, last, timeout);
    }
    Growth {
        records,
        signing_secs,
        secs: started.elapsed().as_secs_f64(),
        peak_rss_kib: node.peak_rss_kib(),
    }
}
