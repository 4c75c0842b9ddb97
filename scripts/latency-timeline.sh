#!/usr/bin/env bash
# Where a height's time goes on four validators at half load: runs
# tamga-bench-cluster (scripts/bench.sh's second part) with every validator
# logging its consensus steps (Malachite's `Starting new height`, `Voting` and
# `Decided`, the node's `proposing` and `committed` at info level, and its
# `proposal part received` and `proposal executed` at debug level), then
# prints, per block
# time, the spread over the half-load heights decided in round 0 of:
#   build    the proposer: height start -> its block built, stored and signed
#   deliver  -> the last other validator prevotes for it (the signed proposal
#            and the block reach it, it stores and executes the block; one
#            that gets the block only after the others precommitted decides
#            without prevoting: its decision ends this step instead); three
#            parts of it, each the slowest other validator's on its own (so
#            they need not add up), over the heights where every other
#            validator logged both lines below (the others are counted):
#     arrive   -> its consensus task took the block up and checked its
#              signer and body (`proposal part received`): after its own
#              commit of the height before, if that was still running
#     wait     -> it could start executing the block: at once, or for a part
#              that came before its height did, when the height started and
#              the buffered part was taken up again (the line logged again)
#     execute  -> it has executed the block (`proposal executed`)
#   votes    -> the last validator decides (prevotes, precommits)
#   commit   decided -> committed, on the slowest validator (the block's
#            write, the caches, the mempool's upkeep, the subscribers' notice)
#   total    height start -> the last validator committed
# and how many heights it left out, and why. A transaction waits up to one
# block interval for the next height to start and then about `total` (the
# bench times the notice on node0); the bench's p99 goal is two intervals.
# The logging costs some CPU: this run's own latency figures are not figures.
# Usage: scripts/latency-timeline.sh [CLUSTER_TRANSFERS] [CLUSTER_BLOCK_TIME_MS]
#                                    [FAST_BLOCK_TIME_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
command -v python3 >/dev/null || tamga_install python3

cargo build --release --workspace --bins --locked
logs=$(mktemp -d)
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$logs"' EXIT
fail() {
  keep=1
  echo "latency-timeline: $1; logs kept in $logs" >&2
  exit 1
}
# tamga-bench-cluster starts every process through TAMGA_BIN and sets a node's
# TAMGA_LOG; this wrapper replaces a node's filter and keeps its log (the
# bench's CLI calls pass through untouched: it reads their output).
cat >"$logs/tamga" <<EOF
#!/usr/bin/env bash
if [ "\${1:-}" = start ]; then
  export TAMGA_LOG="warn,tamga_node=info,tamga_node::consensus::propose=debug,arc_malachitebft_core_consensus=info"
  exec "$CARGO_TARGET_DIR/release/tamga" "\$@" 2>"\$(mktemp "$logs/node.XXXXXX.log")"
fi
exec "$CARGO_TARGET_DIR/release/tamga" "\$@"
EOF
chmod +x "$logs/tamga"
echo "latency-timeline: running tamga-bench-cluster (a few minutes)" >&2
TAMGA_BIN="$logs/tamga" "$CARGO_TARGET_DIR/release/tamga-bench-cluster" \
  "${1:-16000}" "${2:-200}" "${3:-100}" >"$logs/bench.out" 2>"$logs/bench.err" ||
  { tail -20 "$logs/bench.err" >&2; fail "tamga-bench-cluster failed"; }
grep -E "^latency" "$logs/bench.out" | sed 's/$/ (logged: not figures)/' ||
  fail "no latency line in the bench's output"
python3 - "$logs" "${2:-200}" "${3:-100}" <<'EOF' || fail "the logs could not be read"
import datetime, glob, re, sys

logs, block_times = sys.argv[1], sys.argv[2:4]
ansi = re.compile(r"\x1b\[[0-9;]*m")
EVENTS = [
    ("start", re.compile(r"handle::start_height: Starting new height height=(\d+)")),
    ("proposing", re.compile(r"tamga_node::consensus::propose: proposing height=(\d+) .*txs=(\d+)")),
    # No height on this line: it is the height last started (one at a time).
    ("prevote", re.compile(r"handle::driver: Voting vote_type=Prevote value=(\S+)")),
    ("decided", re.compile(r"handle::driver: Decided round=(\d+) height=(\d+)")),
    ("committed", re.compile(r"tamga_node::consensus::host: committed height=(\d+)")),
    ("received", re.compile(r"tamga_node::consensus::propose: proposal part received height=(\d+)")),
    ("executed", re.compile(r"tamga_node::consensus::propose: proposal executed height=(\d+)")),
]

def read(path):
    """A node's log: its role, its last timestamp, per height the first time of
    each event (and the proposals it made, their sizes, the deciding round)."""
    node = {"role": None, "last": None, "heights": {}}
    current = None
    for line in open(path, errors="replace"):
        line = ansi.sub("", line)
        stamp = re.match(r"(\S+)Z\s", line)
        if not stamp:
            continue
        at = datetime.datetime.fromisoformat(stamp.group(1)).timestamp()
        node["last"] = at
        role = re.search(r"consensus engine started validator=(\w+)", line)
        node["role"] = role.group(1) if role else node["role"]
        for name, pattern in EVENTS:
            found = pattern.search(line)
            if not found:
                continue
            if name == "prevote":
                height = current
            else:
                height = int(found.group(2) if name == "decided" else found.group(1))
            if name == "start":
                current = height
            if height is None:
                continue
            events = node["heights"].setdefault(height, {})
            events.setdefault(name, at)
            if name == "proposing":
                events.setdefault("proposals", []).append(int(found.group(2)))
            if name == "decided":
                events.setdefault("round", int(found.group(1)))
            if name == "prevote":
                events.setdefault("prevoted", found.group(1))
            if name == "received" and "executed" not in events:
                # A part buffered for a later height logs again when the
                # height starts and it is taken up: the last line before
                # `executed` is when its execution could begin.
                events["taken"] = at
    return node

nodes = [read(p) for p in glob.glob(f"{logs}/node.*.log")]
nodes = sorted((n for n in nodes if n["last"] is not None), key=lambda n: min(
    (e.get("start", n["last"]) for e in n["heights"].values()), default=n["last"]))
validators = [n for n in nodes if n["role"] == "true"]
late = [n for n in nodes if n["role"] == "false"]
if len(validators) != 8 or len(late) != 1:
    sys.exit(f"expected 4 validators started twice and one late node, found "
             f"{len(validators)} validator logs and {len(late)} others")
# Full load, catch-up (the late node), the half load at the first block time;
# the validators restarted; the half load at the second.
phases = [(block_times[0], validators[:4], late[0]["last"]), (block_times[1], validators[4:], 0)]

def delivery_parts(others):
    """The slowest other validator's arrival time, wait and execution, each on
    its own; None unless every other validator logged both lines."""
    if any("received" not in e or "executed" not in e for e in others):
        return None
    return (max(e["received"] for e in others),
            max(e["taken"] - e["received"] for e in others),
            max(e["executed"] - e["taken"] for e in others))

def step_times(group, after):
    """Per half-load height decided in round 0: its size and step times; the
    heights left out, by reason; and notes (validators that decided without
    prevoting, heights whose delivery parts some validator did not log)."""
    rows, left_out, late_blocks, unlogged = [], {}, 0, 0
    def leave(reason):
        left_out[reason] = left_out.get(reason, 0) + 1
    for height in sorted(set().union(*(n["heights"] for n in group))):
        per_node = [n["heights"].get(height, {}) for n in group]
        if max((t for e in per_node for k, t in e.items() if k in ("start", "committed")),
               default=0) < after:
            continue  # before the half load (or at no time)
        proposers = [i for i, e in enumerate(per_node) if "proposing" in e]
        if not proposers:
            if any("committed" in e for e in per_node):
                leave("no proposing line (a block proposed again after a restart)")
            continue
        p = proposers[0]
        mine = per_node[p]
        if mine["proposals"][0] == 0:
            continue  # an empty block: no load at this height
        if len(proposers) != 1 or len(mine["proposals"]) != 1:
            leave("proposed more than once")
            continue
        if any(e.get("round", 0) != 0 for e in per_node):
            leave("decided after round 0")
            continue
        if any(k not in e for e in per_node for k in ("start", "decided", "committed")):
            leave("an event missing from a log")
            continue
        if any(e.get("prevoted") == "Nil" for e in per_node):
            leave("a validator prevoted nil")
            continue
        others = [e for i, e in enumerate(per_node) if i != p]
        late_blocks += sum("prevote" not in e for e in others)
        delivered = max(e.get("prevote", e["decided"]) for e in others)
        parts = delivery_parts(others)
        unlogged += parts is None
        arrive, wait, execute = parts or (None, None, None)
        rows.append((mine["proposals"][0], {
            "build": mine["proposing"] - mine["start"],
            "deliver": delivered - mine["proposing"],
            "  arrive": None if arrive is None else arrive - mine["proposing"],
            "  wait": wait,
            "  execute": execute,
            "votes": max(e["decided"] for e in per_node) - delivered,
            "commit": max(e["committed"] - e["decided"] for e in per_node),
            "total": max(e["committed"] for e in per_node) - mine["start"],
        }))
    return rows, left_out, late_blocks, unlogged

def at(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]

failed = False
for block_time, group, after in phases:
    rows, left_out, late_blocks, unlogged = step_times(group, after)
    skipped = ", ".join(f"{n} {why}" for why, n in left_out.items()) or "none"
    skipped += f"; {late_blocks} times a validator decided without prevoting"
    if not rows:
        print(f"{block_time} ms blocks: no complete half-load height (left out: {skipped})")
        failed = True
        continue
    txs = [t for t, _ in rows]
    print(f"\n{block_time} ms blocks, half load: {len(rows)} heights, {at(txs, .5)} "
          f"transactions per block (median, max {max(txs)}); left out: {skipped}; ms:")
    print(f"{'step':<9}{'p50':>7}{'p90':>7}{'max':>7}")
    for step in rows[0][1]:
        spent = [r[step] * 1e3 for _, r in rows if r[step] is not None]
        if not spent:
            continue
        print(f"{step:<9}{at(spent, .5):>7.1f}{at(spent, .9):>7.1f}{max(spent):>7.1f}")
    if unlogged:
        print(f"(arrive, wait and execute over {len(rows) - unlogged} of these heights: "
              f"at the others a validator did not log both of their lines)")
sys.exit(1 if failed else 0)
EOF
