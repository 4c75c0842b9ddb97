#!/usr/bin/env bash
# Sets up what is missing, builds `tamga`, writes a local testnet with
# `tamga testnet` (default: 4 validators in /tmp/tamga-devnet, ports from 26600)
# and starts every node as its own process on loopback. Prints each node's RPC URL
# once it answers; Ctrl-C stops them all. Logs: $DEVNET_DIR/nodeN.log.
#
#   VALIDATORS=4 FULL_NODES=0 DEVNET_DIR=/tmp/tamga-devnet BASE_PORT=26600 \
#   BLOCK_TIME_MS=1000 scripts/devnet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

validators="${VALIDATORS:-4}"
full_nodes="${FULL_NODES:-0}"
dir="${DEVNET_DIR:-/tmp/tamga-devnet}"
base_port="${BASE_PORT:-26600}"
block_time_ms="${BLOCK_TIME_MS:-1000}"
nodes=$((validators + full_nodes))

cargo build --release --workspace --bins --locked
tamga="$CARGO_TARGET_DIR/release/tamga"

rm -rf "$dir"
"$tamga" testnet --validators "$validators" --full-nodes "$full_nodes" --out "$dir" \
  --base-port "$base_port" --block-time-ms "$block_time_ms" >/dev/null

pids=()
stop() {
  trap - EXIT INT TERM
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

for ((i = 0; i < nodes; i++)); do
  "$tamga" start --home "$dir/node$i" >"$dir/node$i.log" 2>&1 &
  pids+=($!)
done

echo "Tamga devnet: $validators validators, $full_nodes full nodes, chain tamga-devnet"
echo "Homes in $dir (dev accounts in each node's keys/; dev keys are public)."
for ((i = 0; i < nodes; i++)); do
  url="http://127.0.0.1:$((base_port + 10 * i))"
  for _ in $(seq 1 100); do
    curl -s -m 1 -X POST -H 'Content-Type: application/json' \
      --data '{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}' "$url" >/dev/null && break
    sleep 0.2
  done
  role=validator
  ((i >= validators)) && role="full node"
  echo "  node$i ($role)  RPC $url   home $dir/node$i"
done
echo "Use one from another shell:  export TAMGA_HOME=$dir/node0 TAMGA_RPC=http://127.0.0.1:$base_port"
echo "Ctrl-C stops all nodes."
wait
