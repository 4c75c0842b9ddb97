//! The stateless half of admission: decode and verify, on every core. Signatures
//! are independent of each other, so a batch (from RPC or from gossip) is split
//! across threads before the ordered, stateful half takes the mempool lock.

use crate::stages::Stage;
use tamga_runtime::execute::decode_tx;
use tamga_runtime::{verify_tx, TxError, VerifiedTx};

/// A verified transaction with the bytes it arrived as (gossip relays those).
pub type Checked = Result<(VerifiedTx, Vec<u8>), TxError>;

pub fn check_bytes(chain_id: &str, bytes: Vec<u8>) -> Checked {
    let tx = decode_tx(&bytes)?;
    let vtx = verify_tx(tx, chain_id)?;
    Ok((vtx, bytes))
}

/// Runs `check` over `items` on every core, keeping their order; each thread's
/// time counts in `stage`.
pub fn check_parallel<T: Sync, R: Send>(
    items: &[T],
    stage: &Stage,
    check: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = items.len().div_ceil(threads).max(1);
    let check = &check;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || stage.time(part.len(), || part.iter().map(check).collect()))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| -> Vec<R> { w.join().expect("checking a transaction does not panic") })
            .collect()
    })
}
