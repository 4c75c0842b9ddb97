//! Certified signers (Art. 40 p.3, 49 p.2, 52, 55, 59, 41): issue, act, revoke,
//! re-certify, erase; each refusal with its stable reason.

use super::*;
use crate::pki::{CertStatus, Certificate, Point, RevocationReason as Why, Subject, SubjectRef};

fn issue(subject: SubjectRef, key: u8, roles: Vec<Role>, until: Point) -> Payload {
    Payload::IssueCertificate {
        subject,
        key: pk(key),
        name: Hash32([key; 32]),
        roles,
        valid_from: None,
        valid_until: until,
    }
}

fn new_person(seed: u8) -> SubjectRef {
    SubjectRef::New {
        kind: SubjectKind::Individual,
        identifier: Hash32([seed; 32]),
    }
}

fn issued(events: &[Event]) -> Hash32 {
    match events {
        [Event::CertificateIssued { certificate, .. }] => *certificate,
        other => panic!("unexpected events {other:?}"),
    }
}

fn revoke(certificate: Hash32, why: Why) -> Payload {
    Payload::RevokeCertificate {
        certificate,
        reason: why,
        effective_height: None,
        document: None,
    }
}

fn cert(l: &Ledger, id: &Hash32) -> Certificate {
    get_typed(&l.state as &dyn StateRead, &keys::certificate(id))
        .unwrap()
        .unwrap()
}

fn subject(l: &Ledger, id: &SubjectId) -> Subject {
    get_typed(&l.state as &dyn StateRead, &keys::subject(id))
        .unwrap()
        .unwrap()
}

/// `seed` registers a digital object of its own: any act its certificate allows.
fn self_register(l: &mut Ledger, seed: u8) -> Result<Vec<Event>, TxError> {
    let register = Payload::Register {
        category: Cat::Digital,
        description: "a design".into(),
        owner: sid(seed),
        national: false,
        quantity: None,
    };
    l.run(seed, register, &[])
}

fn forever() -> Point {
    Point::Height(1_000_000)
}

#[test]
fn an_uncertified_key_cannot_act_or_consent() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let register = Payload::Register {
        category: Cat::Digital,
        description: "a song".into(),
        owner: sid(ALICE),
        national: false,
        quantity: None,
    };
    assert_eq!(
        reason(l.run(STRANGER, register.clone(), &[])),
        "pki.uncertified_signer"
    );
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[STRANGER])),
        "pki.uncertified_signer",
        "a co-signer without a certificate is refused too"
    );
}

#[test]
fn issue_act_revoke_then_the_key_is_refused_and_the_subject_keeps_its_records() {
    let mut l = Ledger::new();
    // The root certifies dana (seed 31) with key 31.
    let first = issued(
        &l.run(ROOT, issue(new_person(31), 31, vec![], forever()), &[])
            .unwrap(),
    );
    let dana = sid(31);
    assert_eq!(cert(&l, &first).subject, dana);
    let flat = l.register_tangible(31, false);
    l.height = 5;
    // Dana's key is lost: the authority revokes it (dana cannot sign any more).
    l.run(ROOT, revoke(first, Why::HolderRequest), &[]).unwrap();
    assert_eq!(
        cert(&l, &first).status_at(5, 5_000),
        CertStatus::Revoked {
            reason: Why::HolderRequest,
            effective_height: 5
        }
    );
    assert!(
        cert(&l, &first).status_at(4, 4_000).is_valid(),
        "signatures made before the revocation stay valid"
    );
    assert_eq!(
        reason(l.run(31, transfer(flat, BOB), &[])),
        "pki.uncertified_signer"
    );
    // A new key for the same subject takes over; the record is not stranded.
    let existing = SubjectRef::Existing { subject: dana };
    l.run(ROOT, issue(existing.clone(), 32, vec![], forever()), &[])
        .unwrap();
    assert_eq!(l.record(&flat).owner, dana);
    l.run(32, transfer(flat, BOB), &[]).unwrap();
    assert_eq!(l.record(&flat).owner, sid(BOB));
    // The revoked key is never certified again, for anyone.
    assert_eq!(
        reason(l.run(ROOT, issue(existing, 31, vec![], forever()), &[])),
        "pki.key_revoked"
    );
}

#[test]
fn only_authorities_issue_and_only_roots_accredit() {
    let mut l = Ledger::new();
    assert_eq!(
        reason(l.run(ALICE, issue(new_person(31), 31, vec![], forever()), &[])),
        "pki.not_an_authority"
    );
    let ca = SubjectRef::New {
        kind: SubjectKind::LegalEntity,
        identifier: Hash32([41; 32]),
    };
    let accredit = |key| issue(ca.clone(), key, vec![Role::Authority], forever());
    assert_eq!(
        reason(l.run(
            ROOT,
            issue(ca.clone(), 33, vec![Role::Authority], Point::Height(0)),
            &[]
        )),
        "pki.bad_validity"
    );
    l.run(ROOT, accredit(34), &[]).unwrap();
    l.run(
        34,
        issue(new_person(35), 35, vec![Role::Arbiter], forever()),
        &[],
    )
    .unwrap();
    assert_eq!(
        reason(l.run(34, accredit(36), &[])),
        "pki.root_required",
        "an accredited authority does not accredit others (Art. 52 p.2)"
    );
}

#[test]
fn roles_must_fit_the_subject() {
    let mut l = Ledger::new();
    let person = new_person(31);
    let entity = SubjectRef::New {
        kind: SubjectKind::LegalEntity,
        identifier: Hash32([32; 32]),
    };
    for (subject, role, key) in [
        (person.clone(), Role::Court, 31),
        (person, Role::Authority, 31),
        (entity, Role::Arbiter, 32),
    ] {
        assert_eq!(
            reason(l.run(ROOT, issue(subject, key, vec![role], forever()), &[])),
            "pki.role_not_for_kind",
            "{role:?}"
        );
    }
    assert_eq!(
        reason(l.run(
            ROOT,
            issue(
                new_person(33),
                33,
                vec![Role::Arbiter, Role::Arbiter],
                forever()
            ),
            &[]
        )),
        "pki.bad_roles"
    );
}

#[test]
fn a_key_speaks_for_one_subject_at_a_time() {
    let mut l = Ledger::new();
    assert_eq!(
        reason(l.run(ROOT, issue(new_person(31), ALICE, vec![], forever()), &[])),
        "pki.key_in_use"
    );
    let invalid = Payload::IssueCertificate {
        subject: new_person(31),
        key: PublicKey([0; 32]),
        name: Hash32([0; 32]),
        roles: vec![],
        valid_from: None,
        valid_until: forever(),
    };
    assert_eq!(reason(l.run(ROOT, invalid, &[])), "pki.invalid_key");
    let entity_again = SubjectRef::New {
        kind: SubjectKind::LegalEntity,
        identifier: Hash32([ALICE; 32]),
    };
    assert_eq!(
        reason(l.run(ROOT, issue(entity_again, 31, vec![], forever()), &[])),
        "pki.subject_kind_mismatch"
    );
}

#[test]
fn a_certificate_acts_only_inside_its_window() {
    let mut l = Ledger::new();
    let window = Payload::IssueCertificate {
        subject: new_person(31),
        key: pk(31),
        name: Hash32([1; 32]),
        roles: vec![],
        valid_from: Some(Point::Height(3)),
        valid_until: Point::TimeMs(6_000),
    };
    l.run(ROOT, window, &[]).unwrap();
    assert_eq!(
        reason(self_register(&mut l, 31)),
        "pki.uncertified_signer",
        "not yet"
    );
    l.height = 4; // time 4 000 ms
    self_register(&mut l, 31).unwrap();
    l.height = 6; // time 6 000 ms: expired
    assert_eq!(reason(self_register(&mut l, 31)), "pki.uncertified_signer");
    // An expired key may be renewed for the same subject only.
    l.run(ROOT, issue(new_person(32), 32, vec![], forever()), &[])
        .unwrap();
    assert_eq!(
        reason(l.run(ROOT, issue(new_person(32), 31, vec![], forever()), &[])),
        "pki.key_in_use"
    );
    l.run(ROOT, issue(new_person(31), 31, vec![], forever()), &[])
        .unwrap();
    self_register(&mut l, 31).unwrap();
}

#[test]
fn revocation_grounds_and_who_may_revoke() {
    let mut l = Ledger::new();
    let first = issued(
        &l.run(ROOT, issue(new_person(31), 31, vec![], forever()), &[])
            .unwrap(),
    );
    let second = issued(
        &l.run(
            ROOT,
            issue(
                SubjectRef::Existing { subject: sid(31) },
                32,
                vec![],
                forever(),
            ),
            &[],
        )
        .unwrap(),
    );
    assert_eq!(
        reason(l.run(31, revoke(first, Why::Death), &[])),
        "pki.revocation_not_permitted",
        "a holder revokes only at its own request"
    );
    assert_eq!(
        reason(l.run(BOB, revoke(first, Why::HolderRequest), &[])),
        "pki.revocation_not_permitted",
        "nobody else's request counts"
    );
    let backdated = Payload::RevokeCertificate {
        certificate: first,
        reason: Why::HolderRequest,
        effective_height: Some(0),
        document: None,
    };
    assert_eq!(
        reason(l.run(31, backdated, &[])),
        "pki.revocation_backdated"
    );
    // The holder's other key revokes the lost one.
    l.run(32, revoke(first, Why::HolderRequest), &[]).unwrap();
    assert_eq!(
        reason(l.run(ROOT, revoke(first, Why::FalseData), &[])),
        "pki.already_revoked"
    );
    // The authority revokes on any ground of Art. 59.
    l.run(ROOT, revoke(second, Why::NameChange), &[]).unwrap();
    assert_eq!(
        reason(l.run(32, transfer(Hash32([0; 32]), BOB), &[])),
        "pki.uncertified_signer"
    );
    assert_eq!(
        reason(l.run(ROOT, revoke(Hash32([5; 32]), Why::Death), &[])),
        "pki.unknown_certificate"
    );
}

#[test]
fn a_revocation_can_take_effect_at_a_later_height() {
    let mut l = Ledger::new();
    let first = issued(
        &l.run(ROOT, issue(new_person(31), 31, vec![], forever()), &[])
            .unwrap(),
    );
    let later = Payload::RevokeCertificate {
        certificate: first,
        reason: Why::EntityChange,
        effective_height: Some(3),
        document: Some(Hash32([8; 32])),
    };
    l.run(ROOT, later, &[]).unwrap();
    l.height = 2;
    self_register(&mut l, 31).unwrap();
    l.height = 3;
    assert_eq!(reason(self_register(&mut l, 31)), "pki.uncertified_signer");
}

#[test]
fn erasure_by_the_subject_or_an_authority_once() {
    let mut l = Ledger::new();
    let erase = |who| Payload::ErasePersonalData { subject: sid(who) };
    assert_eq!(
        reason(l.run(BOB, erase(ALICE), &[])),
        "pki.erasure_not_permitted"
    );
    l.run(ALICE, erase(ALICE), &[]).unwrap();
    assert_eq!(subject(&l, &sid(ALICE)).erased_height, Some(1));
    assert_eq!(reason(l.run(ROOT, erase(ALICE), &[])), "pki.already_erased");
    l.run(ROOT, erase(BOB), &[]).unwrap();
    // The ledger goes on: alice still acts with her certificate.
    l.register_tangible(ALICE, false);
}

#[test]
fn a_subject_holds_a_bounded_number_of_live_certificates() {
    let mut l = Ledger::new();
    let dana = SubjectRef::New {
        kind: SubjectKind::Individual,
        identifier: Hash32([31; 32]),
    };
    l.run(ROOT, issue(dana, 50, vec![], forever()), &[])
        .unwrap();
    let existing = SubjectRef::Existing { subject: sid(31) };
    for key in 51..50 + crate::limits::CERTS_PER_SUBJECT_MAX as u8 {
        l.run(ROOT, issue(existing.clone(), key, vec![], forever()), &[])
            .unwrap();
    }
    let over = 50 + crate::limits::CERTS_PER_SUBJECT_MAX as u8;
    assert_eq!(
        reason(l.run(ROOT, issue(existing, over, vec![], forever()), &[])),
        "pki.too_many_certificates"
    );
}

fn revoke_at(certificate: Hash32, why: Why, at: Option<u64>) -> Payload {
    Payload::RevokeCertificate {
        certificate,
        reason: why,
        effective_height: at,
        document: None,
    }
}

/// Accredits key 34 as an authority of a fresh legal entity; returns nothing.
fn accredit_34(l: &mut Ledger) {
    let ca = SubjectRef::New {
        kind: SubjectKind::LegalEntity,
        identifier: Hash32([41; 32]),
    };
    l.run(ROOT, issue(ca, 34, vec![Role::Authority], forever()), &[])
        .unwrap();
}

#[test]
fn a_scheduled_revocation_can_be_brought_forward_never_pushed_back() {
    let mut l = Ledger::new();
    let first = issued(
        &l.run(ROOT, issue(new_person(31), 31, vec![], forever()), &[])
            .unwrap(),
    );
    // A thief with the key schedules its revocation far off, to shield it...
    l.run(31, revoke_at(first, Why::HolderRequest, Some(900_000)), &[])
        .unwrap();
    assert_eq!(
        reason(l.run(31, revoke_at(first, Why::HolderRequest, Some(950_000)), &[])),
        "pki.already_revoked",
        "never pushed back"
    );
    // ...and the authority revokes it now anyway.
    l.run(ROOT, revoke_at(first, Why::FalseData, None), &[])
        .unwrap();
    assert_eq!(
        reason(l.run(31, transfer(Hash32([0; 32]), BOB), &[])),
        "pki.uncertified_signer"
    );
    let second = issued(
        &l.run(ROOT, issue(new_person(32), 32, vec![], forever()), &[])
            .unwrap(),
    );
    let too_far = revoke_at(second, Why::HolderRequest, Some(2_000_000));
    assert_eq!(reason(l.run(32, too_far, &[])), "pki.revocation_too_far");
}

#[test]
fn an_accredited_authority_adds_a_key_to_a_known_subject_only_with_its_consent() {
    let mut l = Ledger::new();
    accredit_34(&mut l);
    let alice = SubjectRef::Existing {
        subject: sid(ALICE),
    };
    assert_eq!(
        reason(l.run(34, issue(alice.clone(), 36, vec![], forever()), &[])),
        "pki.subject_consent_required",
        "no taking alice over"
    );
    let by_commitment = SubjectRef::New {
        kind: SubjectKind::Individual,
        identifier: Hash32([BOB; 32]),
    };
    assert_eq!(
        reason(l.run(34, issue(by_commitment, 37, vec![], forever()), &[])),
        "pki.subject_consent_required",
        "naming a known subject by its public commitment is no way around it"
    );
    l.run(34, issue(alice, 36, vec![], forever()), &[ALICE])
        .unwrap();
    // Nor may it erase a subject it did not certify.
    let erase = Payload::ErasePersonalData { subject: sid(BOB) };
    assert_eq!(reason(l.run(34, erase, &[])), "pki.erasure_not_permitted");
    let erase = Payload::ErasePersonalData {
        subject: sid(ALICE),
    };
    l.run(34, erase, &[]).unwrap();
}
