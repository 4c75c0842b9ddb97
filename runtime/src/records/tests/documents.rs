//! Document anchoring (Art. 55 p.1(4)) and the provenance digest every record
//! change folds into (Art. 62 p.1).

use super::*;
use crate::documents::{DocumentAnchors, DocumentSignature};
use crate::limits::DOCUMENT_SIGNATURES_MAX;
use crate::records::{Provenance, ProvenanceEntry};

fn anchors(ledger: &Ledger, document: &Hash32) -> DocumentAnchors {
    get_typed(&ledger.state as &dyn StateRead, &keys::document(document))
        .unwrap()
        .unwrap()
}

#[test]
fn signer_and_cosigner_anchor_once_each_at_the_block_height_with_their_certificates() {
    let mut ledger = Ledger::new();
    ledger.height = 9;
    let document = Hash32([3; 32]);
    let events = ledger
        .run(ALICE, Payload::AnchorDocument { document }, &[BOB])
        .unwrap();
    assert_eq!(
        events,
        [Event::DocumentAnchored {
            document,
            signers: vec![sid(ALICE), sid(BOB)]
        }]
    );
    let signed = anchors(&ledger, &document).signatures;
    let who: Vec<_> = signed
        .iter()
        .map(|s| (s.subject, s.key, s.height, s.time_ms))
        .collect();
    assert_eq!(
        who,
        [
            (sid(ALICE), pk(ALICE), 9, 9000),
            (sid(BOB), pk(BOB), 9, 9000)
        ]
    );
    let alice_cert: Option<Hash32> = get_typed(
        &ledger.state as &dyn StateRead,
        &keys::key_certificate(&pk(ALICE)),
    )
    .unwrap();
    assert_eq!(Some(signed[0].certificate), alice_cert);
    // The first anchoring stands: alice again is refused, a third signer joins.
    ledger.height = 10;
    let again = ledger
        .run(ALICE, Payload::AnchorDocument { document }, &[])
        .unwrap_err();
    assert_eq!(again.reason(), "document.already_signed");
    ledger
        .run(BANK, Payload::AnchorDocument { document }, &[])
        .unwrap();
    assert_eq!(anchors(&ledger, &document).signatures.len(), 3);
}

#[test]
fn a_document_takes_at_most_its_limit_of_signatures() {
    let mut ledger = Ledger::new();
    let document = Hash32([4; 32]);
    let filler = DocumentSignature {
        subject: SubjectId([9; 32]),
        key: pk(9),
        certificate: Hash32([9; 32]),
        height: 1,
        time_ms: 1,
        tx: Hash32([9; 32]),
    };
    let full = DocumentAnchors {
        signatures: vec![filler; DOCUMENT_SIGNATURES_MAX],
    };
    let bytes = crate::types::encoding::encode(&full);
    ledger.state.insert(keys::document(&document), bytes);
    let refused = ledger
        .run(ALICE, Payload::AnchorDocument { document }, &[])
        .unwrap_err();
    assert_eq!(refused.reason(), "document.too_many_signatures");
}

#[test]
fn every_record_event_folds_into_the_records_provenance_digest_in_order() {
    let mut ledger = Ledger::new();
    let payload = Payload::Register {
        category: Cat::Tangible,
        description: "Flat 12, 5 Abai Ave, Almaty".into(),
        owner: sid(ALICE),
        national: false,
        quantity: None,
    };
    let register = ledger.signed(REGISTRAR, payload, &[]);
    let register_id = register.id();
    let events = ledger.submit(register).unwrap();
    let [Event::Registered { record, .. }] = events.as_slice() else {
        panic!("{events:?}")
    };
    let record = *record;
    ledger.height += 1;
    let transfer = ledger.signed(
        ALICE,
        Payload::Transfer {
            record,
            to: sid(BOB),
            amount: None,
        },
        &[],
    );
    let transfer_id = transfer.id();
    let transferred = ledger.submit(transfer).unwrap();
    let state = &ledger.state as &dyn StateRead;
    let cert = |seed| get_typed::<Hash32>(state, &keys::key_certificate(&pk(seed))).unwrap();
    let entry = |height: u64, tx, seed, event: &Event| ProvenanceEntry {
        height,
        time_ms: height * 1000,
        tx,
        signers: vec![crate::records::Signer {
            key: pk(seed),
            certificate: cert(seed),
        }],
        event: event.clone(),
    };
    // Recomputed from the events, signers and certificates, as the node indexes
    // them and a certificate carries them, the digest is the one in state.
    let expected = Provenance::default()
        .absorb(&entry(
            ledger.height - 1,
            register_id,
            REGISTRAR,
            &events[0],
        ))
        .absorb(&entry(ledger.height, transfer_id, ALICE, &transferred[0]));
    let proven = ledger.record(&record).provenance;
    assert_eq!(proven, expected);
    assert_eq!(proven.entries, 2);
}
