//! The restart row of issue 13's benchmark: the grown node is stopped and
//! started again on its own data, and transfers go to it at once, while its
//! caches warm (`[storage] warm_caches`), and again once `node_storage` says
//! the warm-up has ended: what a restart costs a large ledger's blocks, beside
//! the large state's rate before it. The data's files are in the page cache
//! (just written), so a cold disk is not measured here.

use super::rows::LargeState;
use super::{signed_run, Rng, TransferRun};
use crate::bench::transfers;
use crate::Node;
use std::time::{Duration, Instant};
use tamga_client::{WarmUp, WarmUpState};
use tamga_runtime::PublicKey;

/// How long the benchmark waits for the warm-up to end.
const WARM_UP_WAIT: Duration = Duration::from_secs(600);

/// Restarts `node` (a `tamga dev` node with `block_time_ms` and the flags
/// `extra`), then times two windows of up to `count` transfers on `chain`
/// of records never moved before (signed before the restart): one from the
/// start, one once the warm-up has ended.
pub fn restart(
    node: &mut Node,
    (block_time_ms, extra): (u64, &[&str]),
    chain: &str,
    state: &LargeState,
    count: usize,
) {
    let records = state.all.len();
    let count = count.min(state.alices.len() / 2);
    if count == 0 {
        println!("restart at {records} records: skipped (no records left that were never moved)");
        return;
    }
    let fresh = Rng::new(67).distinct(&state.alices, 2 * count);
    let alice = node.key("alice");
    let first = node.next_nonce(&PublicKey::of(&alice));
    let signed = transfers(chain, &alice, &fresh, node.subject("bob"), first);
    let (during, after) = signed.split_at(count);
    assert!(node.stop(), "the node stops cleanly before its restart");
    let started = Instant::now();
    node.restart_dev(block_time_ms, extra)
        .expect("the node restarts");
    println!(
        "restart at {records} records:    RPC up {:.1} s after the start (the same data, `tamga dev --keep`)",
        started.elapsed().as_secs_f64()
    );
    let run = signed_run(Some("after-restart"), node, during);
    let warm_up = node.client().node_storage().expect("node_storage").warm_up;
    print_window("transfers from the start:", &run, state.rate);
    println!(
        "  the warm-up at that window's end: {:?}, {:.1} s after the start",
        warm_up.state,
        started.elapsed().as_secs_f64()
    );
    print_warm_up(&wait_warmed(node));
    println!(
        "  kernel's pages now:            {}",
        super::kernel_dirty_line()
    );
    let run = signed_run(Some("after-warm-up"), node, after);
    print_window("transfers once warmed:", &run, state.rate);
}

fn print_window(label: &str, run: &TransferRun, before: f64) {
    println!(
        "  {label:<30} {:>7.0} tx/s ({:.3} of the large state's rate before the restart)",
        run.committed,
        run.committed / before
    );
    println!("    where the time goes, µs per transfer: {}", run.stages);
}

/// Polls `node_storage` until the warm-up is no longer running, or for
/// [`WARM_UP_WAIT`].
fn wait_warmed(node: &Node) -> WarmUp {
    let deadline = Instant::now() + WARM_UP_WAIT;
    loop {
        let warm_up = node.client().node_storage().expect("node_storage").warm_up;
        if warm_up.state != WarmUpState::Running || Instant::now() >= deadline {
            return warm_up;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn print_warm_up(warm_up: &WarmUp) {
    let how = match warm_up.state {
        WarmUpState::Done if warm_up.complete => "all read",
        WarmUpState::Done => "stopped at a cache's share",
        WarmUpState::Off => "off: `[storage] warm_caches = false`",
        WarmUpState::Running => "still running: not waited for longer",
        WarmUpState::Failed => warm_up.error.as_deref().unwrap_or("failed"),
        WarmUpState::Unknown => "a state this bench does not know",
    };
    println!(
        "  caches warmed:                 {:.1} s: {} state values, {} tree nodes ({how}; {} batches left out after racing commits)",
        warm_up.elapsed_ms as f64 / 1000.0,
        warm_up.state_values,
        warm_up.tree_nodes,
        warm_up.batches_raced
    );
}
