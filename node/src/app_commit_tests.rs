//! A decided block applied beside the next height (`app_commit.rs`): the next
//! height builds on it before its batch is written, RPC does not see it until
//! then, and a crash in between leaves a block the node applies as it starts.

use super::tests::{decide_signed, dev_subject, open_app, produce_one, submit};
use crate::keyring::dev_key;
use crate::storage::{Applied, StorageError};
use std::sync::Arc;
use tamga_runtime::state::{keys, StateRead};
use tamga_runtime::types::{encoding, ObjectCategory, Payload};
use tamga_runtime::{Hash32, PublicKey};

fn registration(owner: &str) -> Payload {
    Payload::Register {
        category: ObjectCategory::Digital,
        description: "a title".into(),
        owner: dev_subject(owner),
        national: false,
        quantity: None,
    }
}

/// The record a block's first transaction registered.
fn registered(events: &[Vec<tamga_runtime::records::Event>]) -> Hash32 {
    match events[0][0] {
        tamga_runtime::records::Event::Registered { record, .. } => record,
        ref other => panic!("{other:?}"),
    }
}

/// Block 2 registers a record for alice; node `a` decides it and, before its
/// batch is written, admits alice's transfer of that record and builds block 3
/// on it. Node `b`, which applied block 2 first, executes `a`'s block 3 and
/// gets the same state root. Until `a` applies block 2, its RPC reads, tip and
/// index do not show it, and its transaction is pending, not lost.
#[test]
fn the_next_block_builds_on_a_decided_block_not_yet_applied() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (Arc::new(open_app(dir_a.path())), open_app(dir_b.path()));
    let validator = dev_key("validator");
    let both = |executed: crate::storage::ExecutedBlock, commit: &tamga_runtime::types::Commit| {
        let on_b = b.execute_block(executed.block.clone()).unwrap();
        b.commit_block(on_b, commit.clone(), vec![]).unwrap();
        executed
    };
    let (first, commit, _) = decide_signed(&a, std::slice::from_ref(&validator)).unwrap();
    a.commit_block(both(first, &commit), commit, vec![])
        .unwrap();
    let id = submit(&a, "registrar", &[], registration("alice"));
    let (executed, commit, dropped) = decide_signed(&a, std::slice::from_ref(&validator)).unwrap();
    let record = registered(&executed.events);
    let executed = both(executed, &commit);

    let decided = a
        .record_decision(executed, &commit, &dropped, true)
        .unwrap();
    assert_eq!((a.decided_tip().height, a.tip().height), (2, 1));
    assert_eq!(a.storage.tip().unwrap().unwrap().height, 1);
    assert!(
        a.storage.record(&record).unwrap().is_none(),
        "RPC reads what is applied"
    );
    assert!(a.storage.tx_location(&id).unwrap().is_none());
    let pending = a.mempool().status(&id);
    assert!(matches!(pending, Some(crate::mempool::TxStatus::Pending)));
    assert!(StateRead::get(&a.storage, &keys::record(&record)).is_some());
    let applied = Applied(&a.storage);
    assert!(StateRead::get(&applied, &keys::record(&record)).is_none());

    let transfer = Payload::Transfer {
        record,
        to: dev_subject("bob"),
        amount: None,
    };
    let moved = submit(&a, "alice", &[], transfer);
    let (next, dropped_next) = a
        .build_block(crate::clock::now_ms(), PublicKey::of(&validator))
        .unwrap();
    assert_eq!(next.tx_ids, vec![moved]);
    assert!(
        dropped_next.is_empty(),
        "block 2's transaction offered again: {dropped_next:?}"
    );
    let on_b = b.execute_block(next.block.clone()).unwrap();
    assert_eq!(on_b.block.header.state_root, next.block.header.state_root);

    a.apply(&decided, &commit, dropped).unwrap();
    assert_eq!(a.tip().height, 2);
    assert!(a.storage.record(&record).unwrap().is_some());
    assert_eq!(a.storage.tx_location(&id).unwrap().unwrap().height, 2);
    assert!(a.mempool().status(&id).is_none(), "settled once applied");
}

/// A crash after a block's certificate was written and before its batch: the
/// node starts at the height before, applies the block from the proposal
/// store, and ends with the root its header carries.
#[test]
fn a_block_decided_before_a_crash_is_applied_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let validator = dev_key("validator");
    let (header, record) = {
        let app = open_app(dir.path());
        produce_one(&app, &validator).unwrap();
        submit(&app, "registrar", &[], registration("alice"));
        let (executed, commit, _) = decide_signed(&app, std::slice::from_ref(&validator)).unwrap();
        let block = encoding::encode(&executed.block);
        (app.storage)
            .save_proposal(2, &commit.block_hash, &block)
            .unwrap();
        let record = registered(&executed.events);
        let header = executed.block.header.clone();
        app.record_decision(executed, &commit, &vec![], true)
            .unwrap();
        (header, record)
    };
    let app = open_app(dir.path());
    assert_eq!(app.tip().height, 1, "the batch was never written");
    let tip = app
        .apply_decided_after_tip()
        .unwrap()
        .expect("a block to apply");
    assert_eq!((tip.height, tip.state_root), (2, header.state_root));
    assert_eq!(app.storage.tip().unwrap().unwrap(), tip);
    assert!(app.storage.record(&record).unwrap().is_some());
    assert!(
        app.apply_decided_after_tip().unwrap().is_none(),
        "applied once"
    );
}

/// A certificate whose block the proposal store does not hold cannot be
/// applied: the node refuses to start rather than skip a decided height.
#[test]
fn a_decided_block_missing_from_the_proposal_store_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let (_, commit, _) = decide_signed(&app, &[dev_key("validator")]).unwrap();
    app.storage.record_decided(&commit).unwrap();
    let error = app.apply_decided_after_tip().unwrap_err();
    let super::BlockError::Storage(StorageError::Corrupt { what, .. }) = error else {
        panic!("{error}");
    };
    assert_eq!(what, "decided block");
}

/// `decide` applies on a thread of its own: the decided tip moves at once,
/// the applied tip once the thread is joined, and subscribers hear of the
/// block then.
#[test]
fn a_decided_block_is_applied_on_its_own_thread() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(open_app(dir.path()));
    let mut notices = app.subscribe();
    let (executed, commit, dropped) = decide_signed(&app, &[dev_key("validator")]).unwrap();
    let tip = app.decide(executed, commit, dropped).unwrap();
    assert_eq!((tip.height, app.decided_tip()), (1, tip.clone()));
    app.finish_applying().unwrap();
    assert_eq!(app.tip(), tip);
    assert_eq!(app.storage.tip().unwrap(), Some(tip.clone()));
    assert_eq!(notices.try_recv().unwrap().height, 1);
    assert!(app.storage.decided_after_tip().unwrap().is_none());
}

/// A decision while the block before is decided and not applied (its apply
/// panicked, say) is refused, and the certificate a restart needs stays.
#[test]
fn a_decision_never_passes_a_block_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let validator = dev_key("validator");
    let (executed, commit, _) = decide_signed(&app, std::slice::from_ref(&validator)).unwrap();
    let block = encoding::encode(&executed.block);
    (app.storage)
        .save_proposal(1, &commit.block_hash, &block)
        .unwrap();
    app.record_decision(executed, &commit, &vec![], true)
        .unwrap();
    let (next, next_commit, _) = decide_signed(&app, &[validator]).unwrap();
    let refused = app.record_decision(next, &next_commit, &vec![], true);
    assert!(matches!(
        refused,
        Err(super::BlockError::NotApplied {
            applied: 0,
            decided: 1
        })
    ));
    let (kept, _) = app
        .storage
        .decided_after_tip()
        .unwrap()
        .expect("the certificate");
    assert_eq!(kept, commit);
}
