//! The renderer says each event kind in words, with keyring names for the keys
//! and subjects it knows and short hex for the rest.

use super::*;
use tamga_runtime::condo::Allotment;
use tamga_runtime::pki::RevocationReason;
use tamga_runtime::records::Encumbrance;
use tamga_runtime::types::{Bytes, EncumbranceKind};

const ALICE: SubjectId = SubjectId([1; 32]);
const BOB: SubjectId = SubjectId([2; 32]);
const REGISTRAR: SubjectId = SubjectId([3; 32]);
/// A subject no key in the keyring speaks for.
const STRANGER: SubjectId = SubjectId([0xab; 32]);
const ALICE_KEY: PublicKey = PublicKey([9; 32]);
const R: Hash32 = Hash32([0x11; 32]);
const X: Hash32 = Hash32([0x22; 32]);

fn names() -> Names {
    let subjects = [(ALICE, "alice"), (BOB, "bob"), (REGISTRAR, "registrar")];
    Names::new(
        HashMap::from([(ALICE_KEY, "alice".to_owned())]),
        subjects.map(|(s, n)| (s, n.to_owned())).into(),
    )
}

/// Every event kind the runtime emits, with the sentence it reads as.
fn cases() -> Vec<(Event, &'static str)> {
    let encumbrance = Encumbrance {
        id: 1,
        kind: EncumbranceKind::Pledge,
        holder: BOB,
        document: Some(X),
        since_height: 5,
    };
    vec![
        (Event::Registered { record: R, owner: ALICE, registrar: REGISTRAR }, "registered to alice by registrar"),
        (Event::Transferred { record: R, from: ALICE, to: BOB, amount: None }, "transferred from alice to bob"),
        (Event::Transferred { record: R, from: ALICE, to: STRANGER, amount: Some(5) }, "transferred 5 from alice to abababababab…"),
        (Event::SplitOff { record: X, from_record: R, owner: BOB, amount: 3 }, "3 split off record 111111111111… into record 222222222222…, owned by bob"),
        (Event::Encumbered { record: R, encumbrance }, "encumbered with pledge #1 held by bob, citing document 222222222222…"),
        (Event::Released { record: R, encumbrance: 1, by: BOB }, "encumbrance #1 released by bob"),
        (Event::Terminated { record: R, by: REGISTRAR }, "rights terminated by registrar"),
        (Event::Deposited { instance: X, record: R, by: ALICE }, "deposited into contract instance 222222222222… by alice"),
        (Event::ClassRegistered { class: X, issuer: ALICE }, "class 222222222222… registered by alice"),
        (Event::ContractDeployed { contract: X, code_hash: R, terms_hash: R }, "contract 222222222222… deployed (code 111111111111…, terms 111111111111…)"),
        (Event::InstanceProposed { instance: X, contract: R }, "instance 222222222222… of contract 111111111111… proposed"),
        (Event::InstanceAccepted { instance: X, party: BOB }, "instance 222222222222… accepted by bob"),
        (Event::InstanceActivated { instance: X }, "instance 222222222222… active: every party accepted"),
        (Event::ContractCalled { instance: X, caller: ALICE, output: Bytes(vec![1, 2]), fuel_used: 70 }, "instance 222222222222… called by alice (70 fuel, 2 bytes out)"),
        (Event::ContractEmitted { instance: X, data: Bytes(vec![0xff; 2]) }, "instance 222222222222… emitted 2 bytes: ffff"),
        (Event::DisputeOpened { instance: X, by: BOB, reason: R, deadline_height: 40 }, "dispute on instance 222222222222… opened by bob (reason document 111111111111…); arbiters rule by height 40"),
        (Event::Ruled { instance: X, decision_text: R, arbiters: vec![ALICE, BOB], terminated: true }, "ruling on instance 222222222222… by alice, bob (decision document 111111111111…): instance terminated"),
        (Event::ValidatorSetScheduled { effective_height: 9, validators: vec![(ALICE_KEY, 2), (PublicKey([7; 32]), 1)] }, "validator set scheduled from height 9: alice (power 2), 070707070707… (power 1)"),
        (Event::DocumentAnchored { document: X, signers: vec![ALICE] }, "document 222222222222… anchored, signed by alice"),
        (Event::CertificateIssued { certificate: X, subject: ALICE, key: ALICE_KEY, issuer: REGISTRAR }, "certificate 222222222222… issued by registrar: key alice speaks for alice"),
        (Event::CertificateRevoked { certificate: X, subject: ALICE, reason: RevocationReason::FalseData, effective_height: 12, by: REGISTRAR }, "certificate 222222222222… of alice revoked by registrar (false data) from height 12"),
        (Event::PersonalDataErased { subject: ALICE, by: REGISTRAR }, "personal data of alice erased by registrar"),
        (Event::CondoCreated { condo: X, account: STRANGER }, "condominium 222222222222… created, its account abababababab…"),
        (Event::CondoAttached { condo: X, record: R, shared: true }, "record 111111111111… attached to condominium 222222222222… as a shared object"),
        (Event::CondoProposed { condo: X, proposal: 2, by: ALICE }, "proposal #2 of condominium 222222222222… opened by alice"),
        (Event::CondoVoted { condo: X, proposal: 2, by: BOB, tally: 60 }, "bob voted for proposal #2 of condominium 222222222222… (60 parts for it now)"),
        (Event::CondoDecided { condo: X, proposal: Some(2), action: Action::Lease { object: R, lessee: BOB, value: 15000, document: None }, by: ALICE }, "condominium 222222222222… decided proposal #2: lease of object 111111111111… to bob for 15000, carried out by alice"),
        (Event::CondoDecided { condo: X, proposal: None, action: Action::Dissolve { distribution: vec![Allotment { object: R, to: BOB }] }, by: ALICE }, "condominium 222222222222… decided: dissolution, 1 objects allotted, carried out by alice"),
        (Event::CondoShareOffered { condo: X, offer: 1, record: R, numerator: 30 }, "30 parts of share record 111111111111… offered for sale (offer #1 of condominium 222222222222…)"),
        (Event::CondoShareTaken { condo: X, offer: 1, record: R, buyer: BOB }, "offer #1 of condominium 222222222222… taken by bob (share record 111111111111…)"),
        (Event::CondoDissolved { condo: X }, "condominium 222222222222… dissolved"),
    ]
}

#[test]
fn every_event_kind_reads_as_a_sentence() {
    let names = names();
    let mut kinds = std::collections::BTreeSet::new();
    for (event, expected) in cases() {
        assert_eq!(sentence(&event, &names), expected, "{event:?}");
        kinds.insert(event_name(&event));
    }
    // The runtime's 29 kinds, each at least once.
    assert_eq!(kinds.len(), 29, "{kinds:?}");
}

#[test]
fn a_transaction_names_the_record_its_event_changed() {
    let event = Event::Registered {
        record: R,
        owner: ALICE,
        registrar: REGISTRAR,
    };
    assert_eq!(
        sentence_with_record(&event, &names()),
        "record 111111111111…: registered to alice by registrar"
    );
    let anchored = Event::DocumentAnchored {
        document: X,
        signers: vec![],
    };
    assert_eq!(
        sentence_with_record(&anchored, &Names::default()),
        "document 222222222222… anchored, signed by no one"
    );
}

#[test]
fn unknown_keys_and_subjects_are_short_hex() {
    let names = Names::default();
    assert_eq!(names.subject(&ALICE), "010101010101…");
    assert_eq!(names.key(&ALICE_KEY), "090909090909…");
    assert_eq!(short("abc"), "abc");
}
