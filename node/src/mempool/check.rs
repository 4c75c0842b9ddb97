//! The stateless half of admission: decode and verify, on every core. Signatures
//! are independent of each other, so a batch (from RPC or from gossip) is split
//! across threads before the ordered, stateful half takes the mempool lock.

use super::verified::RecentChecks;
use crate::stages::Stage;
use std::sync::OnceLock;
use tamga_runtime::execute::decode_tx;
use tamga_runtime::{verify_hashed, HashedTx, TxError, VerifiedTx};

/// A verified transaction with the bytes it arrived as (gossip relays those).
pub type Checked = Result<(VerifiedTx, Vec<u8>), TxError>;

/// Decodes (within the size limit) and verifies, unless a recent block's check
/// already verified these very signatures (see [`RecentChecks`]). The id is
/// hashed once, for the lookup and the check both.
pub fn check_bytes(chain_id: &str, recent: &RecentChecks, bytes: Vec<u8>) -> Checked {
    let tx = HashedTx::new(decode_tx(&bytes)?);
    let vtx = match recent.approvals(&tx) {
        Some(approvals) => tx.verified_as(approvals),
        None => verify_hashed(tx, chain_id)?,
    };
    Ok((vtx, bytes))
}

/// Threads a batch is checked on: the machine's cores, read once (asking means
/// reading cgroup files, on every batch otherwise).
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// Runs `check` over `items` on every core, keeping their order; each thread's
/// time counts in `stage`. The calling thread checks the first part itself, and
/// the results gather into its part's vector: one thread fewer to start and one
/// batch-sized allocation fewer to fill with fresh pages, per batch.
pub fn check_parallel<T: Sync, R: Send>(
    items: &[T],
    stage: &Stage,
    check: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let chunk = items.len().div_ceil(threads()).max(1);
    let check = &check;
    let run =
        move |part: &[T]| -> Vec<R> { stage.time(part.len(), || part.iter().map(check).collect()) };
    let mut parts = items.chunks(chunk);
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = parts.map(|part| scope.spawn(move || run(part))).collect();
        let mut checked = run(first);
        checked.reserve_exact(items.len() - checked.len());
        for worker in others {
            checked.extend(
                worker
                    .join()
                    .expect("checking a transaction does not panic"),
            );
        }
        assert_eq!(checked.len(), items.len(), "one result per item, in order");
        checked
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item is checked once, on whichever thread, and the results come
    /// back in the items' order, whatever the batch's size against the cores.
    #[test]
    fn results_keep_the_items_order() {
        let stage = Stage::default();
        for len in [0, 1, 2, 3, 7, 1001] {
            let items: Vec<usize> = (0..len).collect();
            let checked = check_parallel(&items, &stage, |i| (*i, std::thread::current().id()));
            let order: Vec<usize> = checked.iter().map(|(i, _)| *i).collect();
            assert_eq!(order, items, "batch of {len}");
        }
        let counted = stage.report()["txs"].as_u64();
        assert_eq!(counted, Some(1 + 2 + 3 + 7 + 1001), "each item timed once");
    }
}
