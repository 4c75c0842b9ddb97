//! The stateless half of admission: decode and verify, on every core. Signatures
//! are independent of each other, so a batch (from RPC or from gossip) is split
//! across threads before the ordered, stateful half takes the mempool lock.

use super::verified::RecentChecks;
use crate::stages::Stage;
use std::sync::OnceLock;
use tamga_runtime::execute::decode_tx;
use tamga_runtime::{check_signatures_batch, HashedTx, TxError, VerifiedTx};

/// A verified transaction with the bytes it arrived as (gossip relays those).
pub type Checked = Result<(VerifiedTx, Vec<u8>), TxError>;

/// Decodes (within the size limit) and verifies, unless a recent block's check
/// already verified these very signatures (see [`RecentChecks`]). The id is
/// hashed once, for the lookup and the check both.
pub fn check_bytes(chain_id: &str, recent: &RecentChecks, bytes: Vec<u8>) -> Checked {
    let mut checked = check_all(chain_id, recent, vec![bytes]);
    checked.pop().expect("one result per transaction")
}

/// [`check_bytes`] of each, in order, the signatures still to check checked in
/// one batch (one field inversion for all of them; each verdict the one a
/// check on its own gives, see `tamga_runtime::types::ed25519`).
pub fn check_all(chain_id: &str, recent: &RecentChecks, all: Vec<Vec<u8>>) -> Vec<Checked> {
    let decoded = (all.into_iter())
        .map(|bytes| match decode_tx(&bytes) {
            Ok(tx) => Staged::ToBatch((HashedTx::new(tx), bytes)),
            Err(error) => Staged::Decided(Err(error)),
        })
        .collect();
    through_batch(decoded, |txs: Vec<(HashedTx, Vec<u8>)>| {
        let known: Vec<_> = txs.iter().map(|(tx, _)| recent.approvals(tx)).collect();
        let unknown: Vec<&HashedTx> = (txs.iter().zip(&known))
            .filter(|(_, known)| known.is_none())
            .map(|((tx, _), _)| tx)
            .collect();
        let mut checked = check_signatures_batch(&unknown, chain_id).into_iter();
        (txs.into_iter().zip(known))
            .map(|((tx, bytes), known)| {
                let approvals = match known {
                    Some(approvals) => approvals,
                    None => checked.next().expect("a check per unknown transaction")?,
                };
                Ok((tx.verified_as(approvals), bytes))
            })
            .collect()
    })
}

/// An item on its way to a batch: decided already, or still for the batch.
pub enum Staged<T, R> {
    ToBatch(T),
    Decided(R),
}

/// `batch` over the items still for it, each result back in its item's place
/// beside the results decided before.
pub fn through_batch<T, R>(
    items: Vec<Staged<T, R>>,
    batch: impl FnOnce(Vec<T>) -> Vec<R>,
) -> Vec<R> {
    let mut passed = Vec::with_capacity(items.len());
    let places: Vec<Option<R>> = (items.into_iter())
        .map(|item| match item {
            Staged::ToBatch(item) => {
                passed.push(item);
                None
            }
            Staged::Decided(result) => Some(result),
        })
        .collect();
    let expected = passed.len();
    let mut results = batch(passed).into_iter();
    assert_eq!(results.len(), expected, "one result per item passed");
    (places.into_iter())
        .map(|place| place.unwrap_or_else(|| results.next().expect("counted above")))
        .collect()
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
/// time counts in `stage`.
pub fn check_parallel<T: Sync, R: Send>(
    items: &[T],
    stage: &Stage,
    check: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    check_parallel_parts(items, stage, |part| part.iter().map(&check).collect())
}

/// Runs `check` over each thread's part of `items` (one part per core, in
/// order), so a part's signatures can be checked in one batch; each thread's
/// time counts in `stage`. The calling thread checks the first part itself, and
/// the results gather into its part's vector: one thread fewer to start and one
/// batch-sized allocation fewer to fill with fresh pages, per batch.
pub fn check_parallel_parts<T: Sync, R: Send>(
    items: &[T],
    stage: &Stage,
    check: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let chunk = items.len().div_ceil(threads()).max(1);
    let check = &check;
    let run = move |part: &[T]| -> Vec<R> {
        let checked = stage.time(part.len(), || check(part));
        assert_eq!(checked.len(), part.len(), "one result per item");
        checked
    };
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
    use crate::app::tests::{open_app, registration};
    use tamga_runtime::check_signatures;
    use tamga_runtime::limits::COSIGNATURES_MAX;
    use tamga_runtime::types::{encoding, verify_signature_reference, Cosignature};

    /// A batch mixing good transactions with a forged signature, a forged
    /// cosignature, both, too many cosignatures, a repeated cosigner, another
    /// chain and bad bytes: each result is the one the sequential check with
    /// ed25519-dalek's own `verify_strict` gives, in its place, whatever the
    /// batch is split into.
    #[test]
    fn a_batch_gives_each_transaction_its_own_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let app = open_app(dir.path());
        let good = |nonce| registration(&app, nonce);
        let cosigned = |nonce, forged: bool, count| {
            let mut tx = good(nonce);
            let mut signature = tx.signature;
            signature.0[3] ^= u8::from(forged);
            let cosignature = Cosignature {
                signer: tx.tx.signer,
                signature,
            };
            tx.cosignatures = vec![cosignature; count];
            tx
        };
        let mut forged = good(1);
        forged.signature.0[40] ^= 1;
        let mut other_chain = good(2);
        other_chain.tx.chain_id = "elsewhere".into();
        let mut both_forged = cosigned(6, true, 1);
        both_forged.signature.0[9] ^= 1;
        let txs = [
            good(0),
            forged,
            other_chain,
            good(4),
            cosigned(3, true, 1),
            both_forged,
            cosigned(7, false, COSIGNATURES_MAX + 1),
            cosigned(8, false, 2),
            good(5),
        ];
        let mut all: Vec<Vec<u8>> = txs.iter().map(encoding::encode).collect();
        all.insert(5, vec![0xFF; 7]);
        let verdict = |checked: Checked| checked.map(|(vtx, _)| (vtx.id, vtx.approvals));
        let reference: Vec<Result<_, TxError>> = (all.iter())
            .map(|bytes| {
                let tx = HashedTx::new(decode_tx(bytes)?);
                let approvals = check_signatures(&tx, &app.chain_id, verify_signature_reference)?;
                Ok((tx.id(), approvals))
            })
            .collect();
        let kinds: Vec<&str> = (reference.iter())
            .map(|result| match result {
                Ok(_) => "ok",
                Err(error) => error.reason(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ok",
                "tx.bad_signature",
                "tx.wrong_chain",
                "ok",
                "tx.bad_cosignature",
                "tx.malformed",
                "tx.bad_signature",
                "tx.too_many_cosignatures",
                "ok",
                "ok"
            ]
        );
        for split in 1..=all.len() {
            let batched: Vec<_> = (all.chunks(split))
                .flat_map(|part| check_all(&app.chain_id, &app.recent_checks, part.to_vec()))
                .map(verdict)
                .collect();
            assert_eq!(batched, reference, "in parts of {split}");
        }
    }

    /// Items decided before the batch keep their places among its results.
    #[test]
    fn through_batch_keeps_every_place() {
        let items = vec![
            Staged::Decided(-1),
            Staged::ToBatch(1),
            Staged::ToBatch(2),
            Staged::Decided(-2),
            Staged::ToBatch(3),
        ];
        let results = through_batch(items, |passed| passed.iter().map(|i| i * 10).collect());
        assert_eq!(results, [-1, 10, 20, -2, 30]);
        let none: Vec<Staged<i32, i32>> = vec![];
        assert!(through_batch(none, |passed| passed).is_empty());
    }

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
