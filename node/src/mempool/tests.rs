//! The mempool's own tests: re-checks, and promotion's budget.

use super::*;
use crate::app::tests::{admit_registration, open_app, produce_one, registration};
use crate::clock::now_ms;
use crate::keyring::dev_key;
use tamga_runtime::verify_tx;

/// A pass of promotion starts a held transaction only while a whole call's
/// fuel is left in its budget. One left held with its gap filled is promoted
/// before its signer's next transaction is judged, not held behind it.
#[test]
fn promotion_stops_short_of_its_fuel_budget() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    admit_registration(&app, 0);
    produce_one(&app, &dev_key("validator")).unwrap();
    let next = app.next_context(now_ms());
    let verified = |n| verify_tx(registration(&app, n), &app.chain_id).unwrap();
    let [first, held, later] = [1, 2, 3].map(verified);
    let signer = held.tx.tx.signer;
    let mut pool = app.mempool();
    let outcome = pool.admit_from_peer(&app.storage, &next, held, 200);
    assert_eq!(outcome.unwrap(), Admitted::Held);
    (pool.admit_one(&app.storage, &next, first, 200, &BlockFuel::block())).unwrap();
    pool.promote(
        &app.storage,
        &next,
        &signer,
        2,
        &BlockFuel::new(FUEL_PER_CALL - 1),
    );
    assert_eq!(
        (pool.len(), pool.parked()),
        (1, 1),
        "short of a call's fuel"
    );
    let outcome = pool.admit_from_peer(&app.storage, &next, later, 200);
    assert_eq!(outcome.unwrap(), Admitted::Queued);
    assert_eq!((pool.len(), pool.parked()), (3, 0));
}

/// A transaction that left the pool unjudged and was sent again is pending
/// again, and stays so through the next re-check (which once skipped it as
/// "already rejected", so it silently vanished).
#[test]
fn a_resubmitted_transaction_survives_the_next_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let id = admit_registration(&app, 0);
    let vtx = {
        let mut pool = app.mempool();
        let vtx = pool.queue[0].vtx.clone();
        pool.queue.clear();
        pool.ids.clear();
        pool.per_signer.clear();
        pool.pending_writes.clear();
        pool.bytes = 0;
        pool.remember(id, Left::Dropped(DROPPED_RECHECK_BUDGET));
        vtx
    };
    assert!(matches!(
        app.mempool().status(&id),
        Some(TxStatus::Dropped(_))
    ));
    let next = app.next_context(crate::clock::now_ms());
    app.mempool().admit(&app.storage, &next, vtx, 200).unwrap();
    app.mempool()
        .on_commit(&app.storage, &next, &[Hash32([9; 32])], vec![], &[]);
    assert!(matches!(app.mempool().status(&id), Some(TxStatus::Pending)));
}
