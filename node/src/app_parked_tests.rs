//! Peers' transactions held for a nonce gap (see [`crate::mempool::parked`]),
//! through gossip admission, blocks and commits: held ones join the queue when
//! the gap fills, in nonce order; what cannot be held, or waits too long, is
//! refused or dropped as before; a client's gap is refused.

use super::tests::{admit_registration, open_app, produce_one, registration};
use super::*;
use crate::keyring::dev_key;
use crate::mempool::parked::PARKED_HEIGHTS_MAX;
use crate::mempool::{AdmitError, TxStatus};

fn gossip(app: &App, txs: &[SignedTx]) -> GossipAdmission {
    let bytes: Vec<Vec<u8>> = txs.iter().map(encoding::encode).collect();
    app.admit_gossiped(&bytes)
}

fn outcome(admitted: usize, held: usize, refused: usize) -> GossipAdmission {
    GossipAdmission {
        admitted,
        held,
        refused,
        forged: 0,
    }
}

fn nonces(app: &App) -> Vec<u64> {
    let candidates = app.mempool().candidates(100);
    candidates.iter().map(|vtx| vtx.tx.tx.nonce).collect()
}

/// Transactions queued and held (one lock: two in one expression would deadlock).
fn sizes(app: &App) -> (usize, usize) {
    let pool = app.mempool();
    (pool.len(), pool.parked())
}

/// A node whose registrar committed its first transaction (nonce 0): only a
/// signer known here is held for.
fn open_app_after_one(dir: &std::path::Path) -> App {
    let app = open_app(dir);
    admit_registration(&app, 0);
    produce_one(&app, &dev_key("validator")).unwrap();
    app
}

/// Two such nodes, from the same first block.
fn two_after_one(dirs: &[tempfile::TempDir; 2]) -> (App, App) {
    let (a, b) = (open_app(dirs[0].path()), open_app(dirs[1].path()));
    admit_registration(&a, 0);
    produce_one(&a, &dev_key("validator")).unwrap();
    commit_as(&a, &b, 1);
    (a, b)
}

/// `b` executes and commits `a`'s block at `height`.
fn commit_as(a: &App, b: &App, height: u64) {
    let executed = b
        .execute_block(a.storage.block(height).unwrap().unwrap())
        .unwrap();
    let commit = a.storage.commit(height).unwrap().unwrap();
    b.commit_block(executed, commit, vec![]).unwrap();
}

/// Signatures the verify stage has checked (or looked up) so far.
fn verified(app: &App) -> u64 {
    app.stages.verify.report()["txs"].as_u64().unwrap()
}

/// Gossip overtaken: nonce 2 arrives before nonce 1. It is held, not refused,
/// and joins the queue right after nonce 1 does. A signer with nothing
/// committed or pending here is not held for (fresh keys cost nothing).
#[test]
fn a_peers_transaction_ahead_of_its_nonce_waits_for_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let unknown = registration(&app, 1);
    assert_eq!(gossip(&app, &[unknown]), outcome(0, 0, 1), "no nonce here");
    admit_registration(&app, 0);
    produce_one(&app, &dev_key("validator")).unwrap();
    let (first, second) = (registration(&app, 1), registration(&app, 2));
    let held = std::slice::from_ref(&second);
    assert_eq!(gossip(&app, held), outcome(0, 1, 0));
    assert_eq!(sizes(&app), (0, 1));
    let status = app.mempool().status(&second.id());
    assert!(matches!(status, Some(TxStatus::Pending)));
    assert_eq!(gossip(&app, held), outcome(0, 0, 1), "held once");
    let vtx = tamga_runtime::verify_tx(second.clone(), &app.chain_id).unwrap();
    let again = app.admit(vtx, encoding::encode(&second));
    assert!(matches!(again, Err(AdmitError::Duplicate(_))), "{again:?}");

    assert_eq!(gossip(&app, &[first]), outcome(1, 0, 0));
    assert_eq!(sizes(&app), (2, 0));
    assert_eq!(nonces(&app), [1, 2]);
    produce_one(&app, &dev_key("validator")).unwrap();
    assert_eq!(app.tip().height, 2);
    assert!(app.mempool().is_empty(), "both committed");
}

/// The gap filled by a block this node did not build: after its commit the
/// held transaction is queued, and this node's next block carries it.
#[test]
fn a_committed_block_fills_the_gap_of_a_held_transaction() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (a, b) = two_after_one(&dirs);
    let (first, second) = (registration(&a, 1), registration(&a, 2));
    assert_eq!(gossip(&a, &[first]), outcome(1, 0, 0));
    produce_one(&a, &dev_key("validator")).unwrap();
    assert_eq!(gossip(&b, std::slice::from_ref(&second)), outcome(0, 1, 0));

    commit_as(&a, &b, 2);
    assert_eq!(sizes(&b), (1, 0));
    produce_one(&b, &dev_key("validator")).unwrap();
    let block = b.storage.block(3).unwrap().unwrap();
    assert_eq!(block.txs, [second]);
}

/// A block carrying a held transaction reuses the check made when it was
/// held, but only for the very signatures checked (Art. 49 p.1): the same
/// block with that transaction's signature forged is refused. The commit
/// leaves nothing held.
#[test]
fn a_block_reuses_a_held_transactions_check() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (a, b) = two_after_one(&dirs);
    let txs = [registration(&a, 1), registration(&a, 2)];
    assert_eq!(gossip(&a, &txs), outcome(2, 0, 0));
    produce_one(&a, &dev_key("validator")).unwrap();
    assert_eq!(gossip(&b, &txs[1..]), outcome(0, 1, 0));
    let block = a.storage.block(2).unwrap().unwrap();

    let mut forged = block.clone();
    forged.txs[1].signature.0[0] ^= 1;
    forged.header.txs_hash = txs_hash(&forged.txs);
    let refused = b.execute_block(forged).map(|_| "executed");
    assert!(
        matches!(
            refused,
            Err(BlockError::Tx {
                index: 1,
                error: TxError::BadSignature(_)
            })
        ),
        "forged signature: {refused:?}"
    );
    let before = verified(&b);
    let executed = b.execute_block(block).unwrap();
    assert_eq!(verified(&b) - before, 1, "only nonce 1 is checked");
    let commit = a.storage.commit(2).unwrap().unwrap();
    b.commit_block(executed, commit, vec![]).unwrap();
    assert_eq!(sizes(&b), (0, 0));
}

/// A client's gap is refused (it hears why); a held transaction whose gap
/// stays open leaves after `PARKED_HEIGHTS_MAX` heights, unremembered (the
/// node it came from still holds it).
#[test]
fn a_clients_gap_is_refused_and_a_held_one_expires() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app_after_one(dir.path());
    let ahead = registration(&app, 2);
    let vtx = tamga_runtime::verify_tx(ahead.clone(), &app.chain_id).unwrap();
    let refused = app.admit(vtx, encoding::encode(&ahead));
    let gap = TxError::NonceGap {
        signer: ahead.tx.signer,
        expected: 1,
        got: 2,
    };
    assert!(matches!(refused, Err(AdmitError::Tx(e)) if e == gap));
    assert_eq!(gossip(&app, std::slice::from_ref(&ahead)), outcome(0, 1, 0));
    for _ in 1..PARKED_HEIGHTS_MAX {
        produce_one(&app, &dev_key("validator")).unwrap();
    }
    assert_eq!(app.mempool().parked(), 1, "still waiting");
    produce_one(&app, &dev_key("validator")).unwrap();
    assert_eq!(app.mempool().parked(), 0);
    let status = app.mempool().status(&ahead.id());
    assert!(status.is_none(), "a peer's transaction is not remembered");
}

/// Holding is bounded: a nonce further ahead than the signer's quota, and any
/// past a quarter of the pool, are refused as gaps (the test pool holds 100).
#[test]
fn holding_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app_after_one(dir.path());
    let far = registration(&app, 52);
    assert_eq!(gossip(&app, &[far]), outcome(0, 0, 1), "past the quota");
    let ahead: Vec<SignedTx> = (2..=27).map(|nonce| registration(&app, nonce)).collect();
    assert_eq!(gossip(&app, &ahead), outcome(0, 25, 1), "a quarter of 100");
    assert_eq!(app.mempool().parked(), 25);
}
