#!/usr/bin/env bash
# Where a height's time goes on four validators at half load: runs
# tamga-bench-cluster (scripts/bench.sh's second part) with every validator
# logging its consensus steps (Malachite's debug lines and the node's
# `proposing` / `committed`), then prints, per block time, the spread over the
# half-load heights of each step of a height:
#   build    the proposer: height start -> its block built, stored and signed
#   publish  -> the first other validator receives the signed proposal
#            (Malachite syncs its WAL before anything signed leaves)
#   execute  -> the last other validator holds the whole block, executed
#   votes    -> the last validator decides (prevotes, precommits)
#   commit   decided -> committed, on the slowest validator (the block's
#            write, the mempool's upkeep, the subscribers' notice)
#   total    height start -> the last validator committed
# A transaction waits up to one block interval for the next height to start,
# then `total`; the bench's p99 goal is two intervals. The logging costs a
# little CPU: the bench's own figures from this run are not figures.
# Needs python3. Usage: scripts/latency-timeline.sh [CLUSTER_TRANSFERS]
#                       [CLUSTER_BLOCK_TIME_MS] [FAST_BLOCK_TIME_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
command -v python3 >/dev/null || { echo "latency-timeline.sh needs python3" >&2; exit 1; }

cargo build --release --workspace --bins --locked
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# tamga-bench-cluster starts every node through TAMGA_BIN and sets its
# TAMGA_LOG; this wrapper replaces the filter and keeps each process's log.
cat >"$logs/tamga" <<EOF
#!/usr/bin/env bash
export TAMGA_LOG="warn,tamga_node=info,arc_malachitebft_core_consensus=debug"
exec "$CARGO_TARGET_DIR/release/tamga" "\$@" 2>>"$logs/node.\$\$.log"
EOF
chmod +x "$logs/tamga"
TAMGA_BIN="$logs/tamga" "$CARGO_TARGET_DIR/release/tamga-bench-cluster" \
  "${1:-16000}" "${2:-200}" "${3:-100}" 2>/dev/null | grep -E "^latency"
python3 - "$logs" "${2:-200}" "${3:-100}" <<'EOF'
import datetime, glob, re, sys

logs, block_times = sys.argv[1], sys.argv[2:4]
ansi = re.compile(r"\x1b\[[0-9;]*m")
STEPS = {
    "Starting new height": "start",
    "tamga_node::consensus::propose: proposing": "proposing",
    "handle::proposal: Received proposal": "received",
    "We have a full proposal": "full",
    "handle::driver: Decided": "decided",
    "tamga_node::consensus::host: committed": "committed",
}

def read(path):
    """(first timestamp, role, {height: {step: time}}, {height: txs})"""
    steps, txs, first, role = {}, {}, None, None
    for line in open(path, errors="replace"):
        line = ansi.sub("", line)
        stamp = re.match(r"(\S+)Z\s", line)
        if not stamp:
            continue
        at = datetime.datetime.fromisoformat(stamp.group(1)).timestamp()
        first = first if first is not None else at
        started = re.search(r"consensus engine started validator=(\w+)", line)
        role = started.group(1) if started else role
        height = re.search(r"height=(\d+)", line)
        step = next((s for text, s in STEPS.items() if text in line), None)
        if not height or not step:
            continue
        at_height = steps.setdefault(int(height.group(1)), {})
        at_height.setdefault(step, at)
        if step == "proposing":
            txs[int(height.group(1))] = int(re.search(r"txs=(\d+)", line).group(1))
    return first, role, steps, txs

# Only nodes (the bench's CLI calls log nothing of consensus), oldest first.
nodes = [read(p) for p in glob.glob(f"{logs}/node.*.log")]
nodes = sorted((n for n in nodes if n[0] is not None), key=lambda n: n[0])
validators = [n for n in nodes if n[1] == "true"]
late = [n for n in nodes if n[1] == "false"]
# Full load, catch-up (the late full node), then the half load at the first
# block time; the validators restarted; the half load at the second.
late_end = max((t for n in late for s in n[2].values() for t in s.values()), default=0)
phases = [(block_times[0], validators[:4], late_end), (block_times[1], validators[4:8], 0)]

def heights(group, after):
    for height in sorted(group[0][2]):
        per_node = [n[2].get(height, {}) for n in group]
        proposer = [i for i, s in enumerate(per_node) if "proposing" in s]
        if len(proposer) != 1 or any(len(s) < 4 for s in per_node):
            continue
        p = proposer[0]
        txs = group[p][3].get(height, 0)
        others = [s for i, s in enumerate(per_node) if i != p]
        if txs == 0 or per_node[p]["start"] < after:
            continue
        try:
            start, built = per_node[p]["start"], per_node[p]["proposing"]
            received = min(s["received"] for s in others)
            full = max(s["full"] for s in others)
            decided = max(s["decided"] for s in per_node)
            yield txs, {
                "build": built - start,
                "publish": received - built,
                "execute": full - received,
                "votes": decided - full,
                "commit": max(s["committed"] - s["decided"] for s in per_node),
                "total": max(s["committed"] for s in per_node) - start,
            }
        except KeyError:
            continue

def at(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]

for block_time, group, after in phases:
    rows = list(heights(group, after)) if len(group) == 4 else []
    if not rows:
        print(f"{block_time} ms blocks: no complete half-load height in the logs")
        continue
    txs = [t for t, _ in rows]
    print(f"\n{block_time} ms blocks, half load: {len(rows)} heights, "
          f"{at(txs, .5)} transactions per block (median, max {max(txs)}); ms:")
    print(f"{'step':<9}{'p50':>7}{'p90':>7}{'max':>7}")
    for step in rows[0][1]:
        spent = [r[step] * 1e3 for _, r in rows]
        print(f"{step:<9}{at(spent, .5):>7.1f}{at(spent, .9):>7.1f}{max(spent):>7.1f}")
EOF
