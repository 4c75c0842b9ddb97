//! Benchmark rows for a ledger that has grown (issue 13): committed transfers per
//! second at a small and at a large state and their ratio, the growth between,
//! disk bytes per committed transfer by column family, and JSON-RPC queries per
//! second against a bare jsonrpsee server answering the same JSON. `tamga-bench`
//! calls these; they live here so the binary stays one screen of sections.

pub mod disk;
pub mod growth;
pub mod join;
pub mod query;
pub mod restart;
pub mod rows;

use crate::bench::{submit_all, transfers, StageReading};
use crate::Node;
use std::time::{Duration, Instant};
use tamga_runtime::types::SignedTx;
use tamga_runtime::{Hash32, PublicKey, SubjectId};

/// The node's mempool bound in transactions (`tamga dev` default `txs_max`, and
/// the per-signer quota the benchmark lifts to it).
pub const POOL_TXS: usize = 20_000;

/// Waits until `tx` is committed, for up to `timeout` (a chunk at a large state
/// may take longer than [`Node::wait_tx`]'s 30 s).
pub fn wait_committed(node: &Node, tx: &SignedTx, timeout: Duration) {
    let hash = tx.id();
    let deadline = Instant::now() + timeout;
    loop {
        let result = node.client().tx_get(hash).expect("tx_get");
        if result.is_committed() {
            return;
        }
        assert!(
            result.status == tamga_client::TxStatus::Pending,
            "tx {hash}: {result:?}"
        );
        assert!(
            Instant::now() < deadline,
            "tx {hash} not committed in {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What one timed workload of transfers measured.
pub struct TransferRun {
    /// Transactions per second admitted over JSON-RPC (submission only).
    pub admitted: f64,
    /// Transactions per second from the first submission to the last commit.
    pub committed: f64,
    /// Where the node's time went, µs per transfer (see [`StageReading`]).
    pub stages: String,
    /// The node's storage just before the first submission and just after the
    /// last commit.
    pub disk_before: disk::Usage,
    pub disk_after: disk::Usage,
}

impl TransferRun {
    /// Column families whose memtable flushed during the run (see
    /// [`disk::flushed`]), or "none".
    fn flushed(&self) -> String {
        let flushed = disk::flushed(&self.disk_before, &self.disk_after);
        if flushed.is_empty() {
            "none".to_string()
        } else {
            flushed.join(", ")
        }
    }
}

/// Timed windows per transfer rate. A window of the default 20,000 transfers
/// lasts about a second, a thin sample of a shared machine (a neighbour, a
/// flush or a compaction in it or not): a rate is the median of this many
/// windows, each on transactions of its own, all of them printed.
pub const WINDOWS: usize = 3;

/// The windows of one rate, in the order they ran.
pub struct Windows(Vec<TransferRun>);

impl Windows {
    /// Runs [`WINDOWS`] windows, window `i` moving what `window(i)` names
    /// (signer, records, recipient); the first is profiled as `section` when
    /// asked (a section's profile is one file, `DIR/SECTION.perf.data`).
    pub fn run<'a>(
        section: &str,
        node: &Node,
        chain: &str,
        window: impl Fn(usize) -> (&'a ed25519_dalek::SigningKey, &'a [Hash32], SubjectId),
    ) -> Windows {
        let runs = (0..WINDOWS).map(|i| {
            let (signer, records, to) = window(i);
            let section = (i == 0).then_some(section);
            transfer_run(section, node, chain, signer, records, to)
        });
        Windows(runs.collect())
    }

    /// The window whose committed rate is the median.
    pub fn median(&self) -> &TransferRun {
        let mut order: Vec<&TransferRun> = self.0.iter().collect();
        order.sort_by(|a, b| a.committed.total_cmp(&b.committed));
        order[order.len() / 2]
    }

    /// Every window's committed rate, in the order they ran.
    pub fn rates(&self) -> String {
        let rates: Vec<String> = self
            .0
            .iter()
            .map(|r| format!("{:.0}", r.committed))
            .collect();
        format!("median of {} windows: {}", self.0.len(), rates.join(", "))
    }

    /// The storage before the first window and after the last: bytes add up
    /// over windows, so all of them count, not the median one alone.
    pub fn disk(&self) -> (&disk::Usage, &disk::Usage) {
        let (first, last) = (self.0.first(), self.0.last());
        let (first, last) = first.zip(last).expect("at least one window");
        (&first.disk_before, &last.disk_after)
    }

    /// Each window's memtable flushes, in the order they ran.
    pub fn flushed_line(&self) -> String {
        let each: Vec<String> = self.0.iter().map(TransferRun::flushed).collect();
        format!(
            "memtable flushes finished in the windows: {}  (one still running is not seen)",
            each.join("; ")
        )
    }
}

/// `signer` transfers each of `records` (all its own, fewer than the mempool
/// bound) to `to`, submitted at once; timed until the last one commits, and
/// profiled as `section`, if given, when asked (see [`crate::profile`]).
pub fn transfer_run(
    section: Option<&str>,
    node: &Node,
    chain: &str,
    signer: &ed25519_dalek::SigningKey,
    records: &[Hash32],
    to: SubjectId,
) -> TransferRun {
    assert!(records.len() <= POOL_TXS, "a workload fits the mempool");
    let first = node.next_nonce(&PublicKey::of(signer));
    let txs = transfers(chain, signer, records, to, first);
    signed_run(section, node, &txs)
}

/// [`transfer_run`] of transactions signed beforehand.
pub fn signed_run(section: Option<&str>, node: &Node, txs: &[SignedTx]) -> TransferRun {
    assert!(txs.len() <= POOL_TXS, "a workload fits the mempool");
    let profile = section.and_then(crate::profile::Profile::start);
    let disk_before = disk::usage(node);
    let before = StageReading::of(node);
    let started = Instant::now();
    submit_all(node, txs);
    let admitted = txs.len() as f64 / started.elapsed().as_secs_f64();
    wait_committed(
        node,
        txs.last().expect("a workload"),
        Duration::from_secs(120),
    );
    let committed = txs.len() as f64 / started.elapsed().as_secs_f64();
    let stages = StageReading::of(node).per_tx_since(&before, txs.len());
    let disk_after = disk::usage(node);
    drop(profile);
    TransferRun {
        admitted,
        committed,
        stages,
        disk_before,
        disk_after,
    }
}

/// A small deterministic generator (splitmix64): the benchmark needs repeatable
/// random picks, not a cryptographic source or another dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n` > 0; the modulo bias is negligible here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `k` distinct items of `items`, uniformly (a partial Fisher-Yates shuffle of
    /// the indices).
    pub fn distinct<T: Copy>(&mut self, items: &[T], k: usize) -> Vec<T> {
        assert!(k <= items.len(), "cannot pick {k} of {}", items.len());
        let mut index: Vec<usize> = (0..items.len()).collect();
        (0..k)
            .map(|i| {
                let j = i + self.below(items.len() - i);
                index.swap(i, j);
                items[index[i]]
            })
            .collect()
    }
}

/// Total bytes of the files under `dir` (the node's data directory, say).
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    dir_bytes_once(dir, &mut std::collections::HashSet::new())
}

/// [`dir_bytes`], each file counted once however many links it has (a state
/// snapshot is hard links to the database's own files, as `du` counts them).
fn dir_bytes_once(dir: &std::path::Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut bytes = 0;
    for entry in entries.flatten() {
        bytes += match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes_once(&entry.path(), seen),
            Ok(meta) if seen.insert((meta.dev(), meta.ino())) => meta.len(),
            _ => 0,
        };
    }
    bytes
}

/// Free bytes on the file system holding `dir`, as `df` reports it.
pub fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-k", "--output=avail"])
        .arg(dir)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text.lines().nth(1)?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// Bytes as MiB, for printing.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The kernel's dirty pages and pages under writeback, machine-wide, from
/// `/proc/meminfo`: "dirty 1,234 MiB, under writeback 56 MiB". Why: a synced
/// commit waits for its own log's pages, on the same disk queue as whatever
/// the kernel is still writing back (a large state's growth writes gigabytes
/// just before its windows).
pub fn kernel_dirty_line() -> String {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = |name: &str| -> Option<u64> {
        let line = meminfo.lines().find(|line| line.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    match (kib("Dirty:"), kib("Writeback:")) {
        (Some(dirty), Some(writeback)) => format!(
            "dirty {:.0} MiB, under writeback {:.0} MiB",
            dirty as f64 / 1024.0,
            writeback as f64 / 1024.0
        ),
        _ => "not known (no /proc/meminfo)".into(),
    }
}
