#!/usr/bin/env bash
# Benchmarks (printed figures, never pass/fail):
# - one node: committed transfers per second on a single validator beside the
#   one-core limit (signature verification + state apply) and their ratio;
#   committed escrow-contract calls per second beside the sandbox's own
#   instantiate + call rate for the same module, and their ratio, and beside the
#   calls' one-core limit (both signatures verified + the call, one thread);
# - four validators (four processes on this machine): committed transfers per
#   second beside the machine limit cores / (validators x verify+apply cost);
#   submit-to-final latency p50/p99 at half that load, seen over the WebSocket, at
#   CLUSTER_BLOCK_TIME_MS and again at FAST_BLOCK_TIME_MS blocks; a late full
#   node's catch-up (transactions replayed per second beside the one-core limit);
# - every section prints where the node's time went, in microseconds per
#   transaction per stage (node_status' `stages`, the commit also split into
#   its batch, RocksDB's log, memtable inserts, the rest of the write and the
#   caches after it) and its whole CPU time.
# - the same node grown to RECORDS records (default 1,000,000; registrations in
#   mempool-sized chunks, a few minutes and a few GB under /tmp): the same
#   transfers on random records of it beside the small state's rate (each rate
#   the median of three windows, each printed with the memtables that flushed
#   in it, after the kernel's dirty and writeback pages; the small state's move its records back and forth, the large
#   state's each move other records), disk bytes
#   per transfer by column family, the node's peak RSS, and record_get queries
#   per second beside a bare jsonrpsee server answering the same JSON: the node's
#   first seconds (block cache not yet warmed by queries) beside a bare window
#   right after, then, after a warm-up on other ids, medians of windows
#   alternating with the bare server; no id is asked twice (plus record_byOwner
#   and record_history rates);
# - a new node joining that grown ledger from its newest state snapshot (the node
#   takes one every 1,000 heights, its default): seconds from its start to its
#   RPC answering at the snapshot's height with the same state root;
# - the grown node restarted on its own data (its files in the page cache): committed
#   transfers from its start, while it warms its caches, and again once
#   node_storage says the warm-up ended, each beside the large state's rate
#   before the restart; the warm-up's seconds and what it read.
# TAMGA_BENCH_PERF=DIR also records a `perf` profile of the whole machine during
# each timed workload (transfers and large-state: the first of their three
# windows; escrow calls, the restarted node's two windows
# after-restart and after-warm-up, the cluster's full load and its
# two half-load latency runs, latency-first and latency-after-restart), into
# DIR (see tests/src/profile.rs); a profiled run's figures are not figures.
# Usage: scripts/bench.sh [TRANSFERS (<= 20000)] [BLOCK_TIME_MS] [CONTRACT_CALLS (<= 20000)]
#                         [RECORDS (>= 2 x max(TRANSFERS, 10000) + 3 x TRANSFERS)]
#                         [CLUSTER_TRANSFERS (<= 16000)] [CLUSTER_BLOCK_TIME_MS] [FAST_BLOCK_TIME_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --workspace --bins --locked
bash scripts/build-contracts.sh >/dev/null
"$CARGO_TARGET_DIR/release/tamga-bench" "${1:-20000}" "${2:-100}" "${3:-5000}" "${4:-1000000}"
echo
"$CARGO_TARGET_DIR/release/tamga-bench-cluster" "${5:-16000}" "${6:-200}" "${7:-100}" 2>/dev/null
