//! The rules a legal review found wrong, each tested against the Article it
//! cites: an arrest stops every disposal (new encumbrances included), a pledge or
//! lien stops further encumbrance without its holder, a national object is a state
//! body's and is not ended by its holder alone.

use super::*;

fn encumbrance(record: Hash32, kind: Kind, holder: u8) -> Payload {
    Payload::Encumber {
        record,
        kind,
        holder: sid(holder),
        document: Some(Hash32([3; 32])),
    }
}

#[test]
fn an_arrest_blocks_every_new_encumbrance_too() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    l.run(COURT, encumbrance(id, Kind::Arrest, COURT), &[])
        .unwrap();
    for (kind, holder) in [
        (Kind::Pledge, BANK),
        (Kind::Lien, CAROL),
        (Kind::Lease, BOB),
    ] {
        assert_eq!(
            reason(l.run(ALICE, encumbrance(id, kind, holder), &[holder])),
            "record.arrested",
            "{kind:?} under arrest"
        );
    }
    // Even with the court's co-signature the owner cannot pledge it: only
    // lifting the arrest ends it.
    assert_eq!(
        reason(l.run(ALICE, encumbrance(id, Kind::Pledge, BANK), &[BANK, COURT])),
        "record.arrested"
    );
}

#[test]
fn a_pledged_or_liened_record_takes_no_further_encumbrance_without_its_holder() {
    for first in [Kind::Pledge, Kind::Lien] {
        let mut l = Ledger::new();
        let id = l.register_tangible(ALICE, false);
        l.run(ALICE, encumbrance(id, first, BANK), &[]).unwrap();
        for kind in [Kind::Pledge, Kind::Lease] {
            assert_eq!(
                reason(l.run(ALICE, encumbrance(id, kind, CAROL), &[])),
                "record.encumbrance_consent_missing",
                "{kind:?} over a {first:?} without the holder"
            );
        }
        l.run(ALICE, encumbrance(id, Kind::Lease, CAROL), &[BANK])
            .unwrap();
        assert_eq!(l.record(&id).encumbrances.len(), 2);
    }
}

#[test]
fn a_lease_needs_no_consent_for_a_further_encumbrance() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    l.run(ALICE, encumbrance(id, Kind::Lease, CAROL), &[])
        .unwrap();
    l.run(ALICE, encumbrance(id, Kind::Pledge, BANK), &[])
        .unwrap();
}

#[test]
fn a_national_object_is_held_only_by_a_state_body() {
    let mut l = Ledger::new();
    for owner in [ALICE, BANK] {
        let payload = Payload::Register {
            category: Cat::Tangible,
            description: "state register server".into(),
            owner: sid(owner),
            national: true,
            quantity: None,
        };
        assert_eq!(
            reason(l.run(REGISTRAR, payload, &[])),
            "record.national_holder_not_state"
        );
    }
    l.register_tangible(MINISTRY, true);
}

#[test]
fn a_national_object_is_not_terminated_by_its_holder_alone() {
    let mut l = Ledger::new();
    let id = l.register_tangible(MINISTRY, true);
    let terminate = Payload::Terminate { record: id };
    assert_eq!(
        reason(l.run(MINISTRY, terminate.clone(), &[])),
        "record.national_termination_alone"
    );
    assert_eq!(
        reason(l.run(MINISTRY, terminate.clone(), &[ALICE])),
        "record.national_termination_alone",
        "a co-signer without the registrar role does not count"
    );
    l.run(MINISTRY, terminate, &[REGISTRAR]).unwrap();
}

#[test]
fn rights_go_only_to_subjects_the_ledger_knows() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let to_a_key = Payload::Transfer {
        record: id,
        to: SubjectId(pk(BOB).0),
        amount: None,
    };
    assert_eq!(reason(l.run(ALICE, to_a_key, &[])), "pki.unknown_subject");
    assert_eq!(l.record(&id).owner, sid(ALICE));
}

#[test]
fn a_court_arrests_a_pledged_record_without_the_pledgee_and_may_arrest_it_again() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    l.run(ALICE, encumbrance(id, Kind::Pledge, BANK), &[])
        .unwrap();
    l.run(COURT, encumbrance(id, Kind::Arrest, COURT), &[])
        .unwrap();
    l.run(COURT, encumbrance(id, Kind::Arrest, COURT), &[])
        .unwrap();
    let kinds: Vec<Kind> = l.record(&id).encumbrances.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![Kind::Pledge, Kind::Arrest, Kind::Arrest]);
}
