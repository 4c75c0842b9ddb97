//! A proposed block's signature checks, reused and not: what [`RecentChecks`]
//! spares must be exactly what a fresh check would conclude, or this node would
//! accept (or approve for) what its peers refuse.

use super::tests::{admit_registration, admit_signed, open_app, produce_one, registration};
use super::*;
use crate::keyring::dev_key;

/// Two nodes from the same genesis (`a`, `b`, with their directories: bind
/// `_dirs`, or they are deleted under the open nodes), and the
/// first block `a` builds and commits from what `admit` put in its mempool.
struct TwoNodes {
    a: App,
    b: App,
    block: Block,
    _dirs: [tempfile::TempDir; 2],
}

fn a_block_for_b(admit: impl FnOnce(&App)) -> TwoNodes {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (a, b) = (open_app(dirs[0].path()), open_app(dirs[1].path()));
    admit(&a);
    produce_one(&a, &dev_key("validator")).unwrap();
    let block = a.storage.block(1).unwrap().unwrap();
    TwoNodes {
        a,
        b,
        block,
        _dirs: dirs,
    }
}

fn two_registrations(app: &App) {
    admit_registration(app, 0);
    admit_registration(app, 1);
}

/// A proposal's transactions that were not pending here are verified once: a
/// later round's proposal of the same block, and their gossip copies arriving
/// after the commit, reuse that check; a copy carrying other signatures is
/// checked, and refused as forged.
#[test]
fn a_blocks_signature_checks_spare_its_copies_but_not_a_forged_one() {
    let TwoNodes { a, b, block, _dirs } = a_block_for_b(two_registrations);
    let counted = |app: &App| app.stages.verify.report()["txs"].as_u64().unwrap();
    b.execute_block(block.clone()).unwrap();
    assert_eq!(b.recent_checks.reused(), 0, "first sight: both checked");
    let before = counted(&b);
    let executed = b.execute_block(block.clone()).unwrap();
    assert_eq!(b.recent_checks.reused(), 2, "proposed again: none checked");
    // Counted as verified too, as admission counts its reuses: the stage's
    // transactions less `signatures_reused` are the signatures checked.
    assert_eq!(counted(&b) - before, 2, "reuses count in the verify stage");
    let commit = a.storage.commit(1).unwrap().unwrap();
    b.commit_block(executed, commit, vec![]).unwrap();

    let mut forged = block.txs[0].clone();
    forged.signature.0[0] ^= 1;
    let mut gossip: Vec<Vec<u8>> = block.txs.iter().map(encoding::encode).collect();
    gossip.push(encoding::encode(&forged));
    let outcome = b.admit_gossiped(&gossip);
    let expected = GossipAdmission {
        admitted: 0,
        held: 0,
        refused: 2,
        forged: 1,
    };
    assert_eq!(
        outcome, expected,
        "copies refused as committed, forgery caught"
    );
    assert_eq!(
        b.recent_checks.reused(),
        4,
        "the copies were not checked again"
    );
}

/// Admits a registration the registrar signs and alice cosigns.
fn admit_cosigned_registration(app: &App) -> SignedTx {
    let tx = registration(app, 0).cosign(&dev_key("alice"));
    admit_signed(app, tx.clone());
    tx
}

/// A remembered check covers only the very cosignatures it verified: a block
/// re-proposed with one forged is refused, as every peer refuses it, and a copy
/// stripped of it is approved by its signer alone.
#[test]
fn a_remembered_check_does_not_cover_other_cosignatures() {
    let mut cosigned = None;
    let TwoNodes {
        b, block, _dirs, ..
    } = a_block_for_b(|a| cosigned = Some(admit_cosigned_registration(a)));
    let cosigned = cosigned.expect("admitted");
    assert_eq!(block.txs, vec![cosigned], "the cosigned registration is in");
    b.execute_block(block.clone()).unwrap();
    let (registrar, alice) = (
        PublicKey::of(&dev_key("registrar")),
        PublicKey::of(&dev_key("alice")),
    );
    let again = b.verify_block_txs(&block.txs).unwrap();
    assert_eq!(again[0].approvals, vec![registrar, alice], "both approve");
    assert_eq!(
        b.recent_checks.reused(),
        1,
        "the very copy reuses the check"
    );

    let mut forged = block.clone();
    forged.txs[0].cosignatures[0].signature.0[0] ^= 1;
    forged.header.txs_hash = txs_hash(&forged.txs);
    let refused = b.execute_block(forged).map(|_| "executed");
    assert!(
        matches!(
            refused,
            Err(BlockError::Tx { index: 0, error: TxError::BadCosignature(key) }) if key == alice
        ),
        "forged cosignature: {refused:?}"
    );

    let mut stripped = block.txs[0].clone();
    stripped.cosignatures.clear();
    let checked = b.verify_block_txs(&[stripped]).unwrap();
    assert_eq!(
        checked[0].approvals,
        vec![registrar],
        "stripped: signer alone"
    );
    assert_eq!(b.recent_checks.reused(), 1, "neither was a copy");
}

/// A block refused for a forged transaction leaves no check behind: its other
/// transactions' copies are checked afresh (only a block wholly verified is
/// remembered).
#[test]
fn a_refused_blocks_checks_are_not_remembered() {
    let TwoNodes {
        b,
        mut block,
        _dirs,
        ..
    } = a_block_for_b(two_registrations);
    block.txs[1].signature.0[0] ^= 1;
    block.header.txs_hash = txs_hash(&block.txs);
    let refused = b.execute_block(block.clone()).map(|_| "executed");
    assert!(
        matches!(refused, Err(BlockError::Tx { index: 1, .. })),
        "{refused:?}"
    );
    b.verify_block_txs(&block.txs[..1]).unwrap();
    assert_eq!(b.recent_checks.reused(), 0, "the good one is checked again");
}
