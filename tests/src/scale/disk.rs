//! Disk bytes per committed transfer, explained: `node_storage`
//! (RocksDB's own per-column-family SST and memtable sizes, and the WAL) read
//! before and after a workload, the difference divided by the workload's size.

use crate::Node;
use std::collections::BTreeMap;

/// One `node_status` reading: per column family (SST bytes, memtable bytes), and
/// the WAL's bytes.
pub struct Usage {
    pub column_families: BTreeMap<String, (u64, u64)>,
    pub wal_bytes: u64,
}

/// Reads the node's storage usage (`node_storage`).
pub fn usage(node: &Node) -> Usage {
    let storage = node.client().node_storage().expect("node_storage");
    let column_families = storage
        .column_families
        .into_iter()
        .map(|(name, cf)| (name, (cf.sst_bytes, cf.memtable_bytes)))
        .collect();
    Usage {
        column_families,
        wal_bytes: storage.wal_bytes,
    }
}

impl Usage {
    /// SST plus memtable bytes over every column family.
    pub fn total(&self) -> u64 {
        self.column_families.values().map(|(s, m)| s + m).sum()
    }
}

/// Column families whose memtables shrank between two readings: a flush
/// finished between them. Only a finished flush shrinks the reading
/// (`size-all-mem-tables`: writes grow it; a flush frees a memtable into a new
/// SST file). One still running at the second reading (its memtable switched
/// but not yet freed) is not seen, so an empty list does not prove that no
/// flush competed with the window. At the bench's sizes a window of 20,000
/// transfers writes 4.5-5.6 MB to each family with random keys, whose write
/// buffers are 16 MiB (`RANDOM_KEY_CFS` in the node's storage): about three
/// windows' writes per memtable.
pub fn flushed<'a>(before: &Usage, after: &'a Usage) -> Vec<&'a str> {
    (after.column_families.iter())
        .filter(|(name, &(_, memtable))| {
            (before.column_families.get(*name)).is_some_and(|&(_, was)| memtable < was)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

fn signed(after: u64, before: u64) -> f64 {
    after as f64 - before as f64
}

/// Prints bytes per transfer between two readings around `count` transfers:
/// the total, then each column family that moved, largest first.
pub fn print_per_transfer(before: &Usage, after: &Usage, count: usize) {
    let n = count as f64;
    println!(
        "bytes per transfer, SST + memtable (memtable = in-memory size, not disk), all column families: {:>8.0}",
        signed(after.total(), before.total()) / n
    );
    let mut rows: Vec<(&String, f64, f64)> = after
        .column_families
        .iter()
        .map(|(name, &(sst, mem))| {
            let (sst0, mem0) = before.column_families.get(name).copied().unwrap_or((0, 0));
            (name, signed(sst, sst0) / n, signed(mem, mem0) / n)
        })
        .filter(|(_, sst, mem)| sst.abs() + mem.abs() >= 0.5)
        .collect();
    rows.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    for (name, sst, mem) in rows {
        println!(
            "  {name:<16} {:>8.0} B/transfer  (SST {sst:>8.0}, memtable {mem:>8.0})",
            sst + mem
        );
    }
    println!(
        "  write-ahead log  {:>8.0} B/transfer  (WAL files, deleted once flushed)",
        signed(after.wal_bytes, before.wal_bytes) / n
    );
}

/// Waits (up to `max`) until the node's RocksDB has no compaction queued or
/// running, so a measurement after a bulk load does not race its compaction;
/// returns how long that took.
pub fn wait_compacted(node: &Node, max: std::time::Duration) -> std::time::Duration {
    let started = std::time::Instant::now();
    while started.elapsed() < max {
        let storage = node.client().node_storage().expect("node_storage");
        if !storage.compaction_pending {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    started.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(column_families: &[(&str, u64, u64)]) -> Usage {
        Usage {
            column_families: (column_families.iter())
                .map(|&(name, sst, memtable)| (name.to_string(), (sst, memtable)))
                .collect(),
            wal_bytes: 0,
        }
    }

    #[test]
    fn a_memtable_that_shrank_flushed_and_one_that_grew_did_not() {
        let before = usage(&[("smt_nodes", 100, 60), ("state", 10, 5), ("txs", 0, 7)]);
        let after = usage(&[("smt_nodes", 160, 2), ("state", 10, 9), ("txs", 0, 7)]);
        assert_eq!(flushed(&before, &after), ["smt_nodes"]);
        assert!(flushed(&after, &after).is_empty(), "no change, no flush");
        let new_family = usage(&[("smt_nodes", 160, 2), ("blocks", 0, 1)]);
        assert!(flushed(&after, &new_family).is_empty());
    }
}
