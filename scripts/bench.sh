#!/usr/bin/env bash
# Benchmarks (printed figures, never pass/fail), all in one run on one node:
# - committed transfers per second on a single validator beside the one-core limit
#   (signature verification + state apply) and their ratio;
# - committed escrow-contract calls per second beside the sandbox's own
#   instantiate + call rate for the same module, and their ratio.
# Usage: scripts/bench.sh [TRANSFERS (<= 20000)] [BLOCK_TIME_MS] [CONTRACT_CALLS (<= 5000)]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --workspace --bins --locked
bash scripts/build-contracts.sh >/dev/null
"$CARGO_TARGET_DIR/release/tamga-bench" "${1:-20000}" "${2:-100}" "${3:-2000}"
