#!/usr/bin/env bash
# Benchmarks (printed figures, never pass/fail):
# - one node: committed transfers per second on a single validator beside the
#   one-core limit (signature verification + state apply) and their ratio;
#   committed escrow-contract calls per second beside the sandbox's own
#   instantiate + call rate for the same module, and their ratio;
# - four validators (four processes on this machine): committed transfers per
#   second beside the machine limit cores / (validators x verify+apply cost), and
#   submit-to-final latency p50/p99 at half that load, seen over the WebSocket.
# Usage: scripts/bench.sh [TRANSFERS (<= 20000)] [BLOCK_TIME_MS] [CONTRACT_CALLS (<= 5000)]
#                         [CLUSTER_TRANSFERS (<= 16000)] [CLUSTER_BLOCK_TIME_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --workspace --bins --locked
bash scripts/build-contracts.sh >/dev/null
"$CARGO_TARGET_DIR/release/tamga-bench" "${1:-20000}" "${2:-100}" "${3:-2000}"
echo
"$CARGO_TARGET_DIR/release/tamga-bench-cluster" "${4:-16000}" "${5:-200}" 2>/dev/null
