//! Rules on records of unique objects: registration, transfer, encumbrances,
//! release, termination, national objects.

use super::*;

#[test]
fn registrar_registers_tangible_and_owner_transfers() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    assert_eq!(l.record(&id).owner, sid(ALICE));
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
    assert_eq!(l.record(&id).owner, sid(BOB));
}

#[test]
fn only_registrar_registers_tangible_objects() {
    let mut l = Ledger::new();
    let payload = Payload::Register {
        category: Cat::Tangible,
        description: "tractor".into(),
        owner: sid(ALICE),
        national: false,
        quantity: None,
    };
    assert_eq!(
        reason(l.run(ALICE, payload, &[])),
        "record.registrar_required"
    );
}

#[test]
fn self_registration_of_digital_objects_needs_the_owner() {
    let mut l = Ledger::new();
    let for_bob = Payload::Register {
        category: Cat::Digital,
        description: "song master".into(),
        owner: sid(BOB),
        national: false,
        quantity: None,
    };
    assert_eq!(
        reason(l.run(ALICE, for_bob.clone(), &[])),
        "record.owner_signature_required"
    );
    l.run(ALICE, for_bob, &[BOB]).unwrap();
}

#[test]
fn non_owner_cannot_transfer() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    assert_eq!(
        reason(l.run(BOB, transfer(id, BOB), &[])),
        "record.not_owner"
    );
    assert_eq!(
        reason(l.run(ALICE, transfer(id, ALICE), &[])),
        "record.transfer_to_self"
    );
}

#[test]
fn pledge_needs_owner_consent_and_blocks_transfer_without_pledgee() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    assert_eq!(
        reason(l.run(BANK, pledge(id, BANK), &[])),
        "record.owner_consent_missing"
    );
    assert_eq!(
        reason(l.run(ALICE, pledge(id, ALICE), &[])),
        "record.self_encumbrance"
    );
    l.run(BANK, pledge(id, BANK), &[ALICE]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[])),
        "record.encumbrance_consent_missing"
    );
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[CAROL])),
        "record.encumbrance_consent_missing"
    );
    // With the pledgee's consent the record moves and the pledge follows it.
    l.run(ALICE, transfer(id, BOB), &[BANK]).unwrap();
    let record = l.record(&id);
    assert_eq!(record.owner, sid(BOB));
    assert_eq!(record.encumbrances.len(), 1);
    assert_eq!(record.encumbrances[0].holder, sid(BANK));
}

#[test]
fn release_only_by_holder_then_free_transfer() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    l.run(ALICE, pledge(id, BANK), &[]).unwrap();
    let release = Payload::Release {
        record: id,
        encumbrance: 1,
    };
    assert_eq!(
        reason(l.run(ALICE, release.clone(), &[])),
        "record.not_encumbrance_holder"
    );
    let missing = Payload::Release {
        record: id,
        encumbrance: 7,
    };
    assert_eq!(
        reason(l.run(BANK, missing, &[])),
        "record.encumbrance_not_found"
    );
    l.run(BANK, release, &[]).unwrap();
    assert!(l.record(&id).encumbrances.is_empty());
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
}

#[test]
fn lease_follows_the_object_without_consent() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let lease = Payload::Encumber {
        record: id,
        kind: Kind::Lease,
        holder: sid(CAROL),
        document: Some(Hash32([3; 32])),
    };
    l.run(ALICE, lease, &[]).unwrap();
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
    let record = l.record(&id);
    assert_eq!(record.owner, sid(BOB));
    assert_eq!(record.encumbrances[0].kind, Kind::Lease);
    assert_eq!(record.encumbrances[0].document, Some(Hash32([3; 32])));
}

#[test]
fn lien_needs_consent_like_pledge() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let lien = Payload::Encumber {
        record: id,
        kind: Kind::Lien,
        holder: sid(CAROL),
        document: None,
    };
    l.run(ALICE, lien, &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[])),
        "record.encumbrance_consent_missing"
    );
}

#[test]
fn arrest_only_by_a_court_citing_its_order_and_blocks_all_disposal() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let arrest = |holder, document| Payload::Encumber {
        record: id,
        kind: Kind::Arrest,
        holder: sid(holder),
        document,
    };
    let order = Some(Hash32([1; 32]));
    assert_eq!(
        reason(l.run(BANK, arrest(BANK, order), &[ALICE])),
        "record.arrest_needs_court"
    );
    assert_eq!(
        reason(l.run(REGISTRAR, arrest(REGISTRAR, order), &[])),
        "record.arrest_needs_court",
        "a registrar is not a court"
    );
    assert_eq!(
        reason(l.run(COURT, arrest(BANK, order), &[])),
        "record.arrest_needs_court",
        "the court holds its own arrest"
    );
    assert_eq!(
        reason(l.run(COURT, arrest(COURT, None), &[])),
        "record.arrest_needs_order"
    );
    l.run(COURT, arrest(COURT, order), &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[COURT])),
        "record.arrested"
    );
    let release = Payload::Release {
        record: id,
        encumbrance: 1,
    };
    assert_eq!(
        reason(l.run(ALICE, release.clone(), &[])),
        "record.not_encumbrance_holder"
    );
    l.run(COURT, release, &[]).unwrap();
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
}

#[test]
fn national_objects_cannot_be_alienated_or_encumbered() {
    let mut l = Ledger::new();
    let id = l.register_tangible(MINISTRY, true);
    assert_eq!(
        reason(l.run(MINISTRY, transfer(id, BOB), &[])),
        "record.national_object"
    );
    assert_eq!(
        reason(l.run(BANK, pledge(id, BANK), &[MINISTRY])),
        "record.national_object"
    );
    let lease = Payload::Encumber {
        record: id,
        kind: Kind::Lease,
        holder: sid(BOB),
        document: None,
    };
    assert_eq!(
        reason(l.run(MINISTRY, lease, &[])),
        "record.national_object"
    );
    let arrest = Payload::Encumber {
        record: id,
        kind: Kind::Arrest,
        holder: sid(COURT),
        document: Some(Hash32([1; 32])),
    };
    assert_eq!(reason(l.run(COURT, arrest, &[])), "record.national_object");
}

#[test]
fn only_registrar_designates_national_objects() {
    let mut l = Ledger::new();
    let payload = Payload::Register {
        category: Cat::Digital,
        description: "state register".into(),
        owner: sid(MINISTRY),
        national: true,
        quantity: None,
    };
    assert_eq!(
        reason(l.run(MINISTRY, payload, &[])),
        "record.registrar_required"
    );
}

#[test]
fn terminate_by_owner_only_and_not_while_encumbered() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    l.run(ALICE, pledge(id, BANK), &[]).unwrap();
    let terminate = Payload::Terminate { record: id };
    assert_eq!(
        reason(l.run(BOB, terminate.clone(), &[])),
        "record.not_owner"
    );
    assert_eq!(
        reason(l.run(ALICE, terminate.clone(), &[])),
        "record.encumbered"
    );
    l.run(
        BANK,
        Payload::Release {
            record: id,
            encumbrance: 1,
        },
        &[],
    )
    .unwrap();
    l.run(ALICE, terminate.clone(), &[]).unwrap();
    assert_eq!(l.record(&id).status, RecordStatus::Terminated);
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[])),
        "record.terminated"
    );
    assert_eq!(reason(l.run(ALICE, terminate, &[])), "record.terminated");
}
