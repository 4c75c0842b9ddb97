//! Certificates over a real node's storage, checked by the offline verifier:
//! round trips, proofs of absence, a validator-set change, a long history, and
//! refusal of every single-byte change to the file.

use super::*;
use crate::app::tests::{
    dev_subject, open_app, produce_one, produce_signed, register_digital, run, submit,
};
use crate::app::App;
use crate::cli::dev_genesis;
use crate::keyring::dev_key;
use ed25519_dalek::SigningKey;
use tamga_runtime::records::Event;
use tamga_runtime::state::keys;
use tamga_runtime::types::{EncumbranceKind, Payload};
use tamga_runtime::validators::Validator;
use tamga_runtime::Genesis;
use tamga_runtime::PublicKey;
use tamga_verify::report::{Finding, RecordFinding};
use tamga_verify::{verify, verify_bytes, Place, VerifyError};

fn register(app: &App, owner: &str) -> Hash32 {
    register_digital(app, owner, format!("domain name of {owner}"))
}

fn pledge(app: &App, record: Hash32, owner: &str, holder: &str) {
    let payload = Payload::Encumber {
        record,
        kind: EncumbranceKind::Pledge,
        holder: dev_subject(holder),
        document: None,
    };
    run(app, owner, &[holder], payload);
}

/// A certificate for `record` at the tip.
fn certificate_at_tip(app: &App, record: &Hash32) -> tamga_verify::Certificate {
    crate::certify::record(&app.storage, record, app.tip().height).unwrap()
}

fn record_finding(verified: &tamga_verify::Verified) -> &RecordFinding {
    match &verified.finding {
        Finding::Record(r) => r,
        other => panic!("{other:?}"),
    }
}

/// alice's record, transferred to bob, pledged to the bank.
fn chain_with_a_record(dir: &std::path::Path) -> (App, Hash32) {
    let app = open_app(dir);
    let record = register(&app, "alice");
    let to = dev_subject("bob");
    run(
        &app,
        "alice",
        &[],
        Payload::Transfer {
            record,
            to,
            amount: None,
        },
    );
    pledge(&app, record, "bob", "bank");
    (app, record)
}

#[test]
fn a_record_certificate_verifies_offline_with_owner_encumbrances_provenance_and_signers() {
    let dir = tempfile::tempdir().unwrap();
    let (app, record) = chain_with_a_record(dir.path());
    let height = app.tip().height;
    let bytes = certificate_at_tip(&app, &record).to_bytes();
    drop(app);
    let verified = verify_bytes(&bytes, &dev_genesis().unwrap()).unwrap();
    assert_eq!(verified.height, height);
    assert_eq!(verified.validator_set_changes, 0);
    let r = record_finding(&verified);
    let rec = r.record.as_ref().expect("the record exists");
    assert_eq!(rec.owner, dev_subject("bob"));
    assert_eq!(rec.encumbrances.len(), 1);
    assert_eq!(rec.encumbrances[0].holder, dev_subject("bank"));
    assert_eq!(
        r.absent_encumbrances,
        [
            EncumbranceKind::Lien,
            EncumbranceKind::Lease,
            EncumbranceKind::Arrest
        ]
    );
    assert!(!r.arrested);
    let provenance = r.provenance.as_ref().unwrap();
    assert_eq!((provenance.total, provenance.earlier), (3, 0));
    assert!(matches!(
        provenance.entries[1].event,
        Event::Transferred { .. }
    ));
    // registrar, alice, bob, bank: each key with the certificate bound to it.
    let subjects: Vec<_> = r
        .signers
        .iter()
        .map(|s| s.certificate.as_ref().unwrap().subject)
        .collect();
    let names = ["registrar", "alice", "bob", "bank"];
    assert_eq!(subjects, names.map(dev_subject));
    let text = tamga_verify::render(&verified);
    assert!(
        text.contains(&format!("owner:         subject {}", dev_subject("bob"))),
        "{text}"
    );
}

#[test]
fn an_unknown_id_and_an_unanchored_document_are_proven_absent() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = chain_with_a_record(dir.path());
    let height = app.tip().height;
    let genesis = dev_genesis().unwrap();
    let never = Hash32([7; 32]);
    let bytes = crate::certify::record(&app.storage, &never, height)
        .unwrap()
        .to_bytes();
    let verified = verify_bytes(&bytes, &genesis).unwrap();
    assert_eq!(record_finding(&verified).record, None);
    let bytes = crate::certify::document(&app.storage, &never, height)
        .unwrap()
        .to_bytes();
    match verify_bytes(&bytes, &genesis).unwrap().finding {
        Finding::Document(d) => assert!(d.signatures.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_anchored_document_shows_each_signer_with_the_certificate_it_signed_under() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let document = Hash32(*blake3::hash(b"sale agreement, 5 Abai Ave.").as_bytes());
    run(
        &app,
        "alice",
        &["bob"],
        Payload::AnchorDocument { document },
    );
    let anchored_at = app.tip();
    produce_one(&app, &dev_key("validator")).unwrap();
    let height = app.tip().height;
    let bytes = crate::certify::document(&app.storage, &document, height)
        .unwrap()
        .to_bytes();
    let Finding::Document(d) = verify_bytes(&bytes, &dev_genesis().unwrap())
        .unwrap()
        .finding
    else {
        panic!("a document finding")
    };
    let signed: Vec<_> = d
        .signatures
        .iter()
        .map(|s| (s.subject, s.height, s.time_ms))
        .collect();
    let when = (anchored_at.height, anchored_at.time_ms);
    let expected = [("alice", when), ("bob", when)].map(|(n, (h, t))| (dev_subject(n), h, t));
    assert_eq!(signed, expected);
    assert_eq!(d.certificates[1].subject, dev_subject("bob"));
    // The first anchoring stands: alice cannot anchor the same document again.
    let again =
        crate::app::tests::submit_result(&app, "alice", Payload::AnchorDocument { document });
    assert_eq!(again, Err("document.already_signed"));
}

#[test]
fn every_single_byte_change_to_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (app, record) = chain_with_a_record(dir.path());
    let bytes = certificate_at_tip(&app, &record).to_bytes();
    let genesis = dev_genesis().unwrap();
    verify_bytes(&bytes, &genesis).unwrap();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[i] ^= flip;
            assert!(
                verify_bytes(&tampered, &genesis).is_err(),
                "byte {i} of {} xor {flip:#x} was accepted",
                bytes.len()
            );
        }
    }
}

fn fresh_keys(n: u8) -> Vec<SigningKey> {
    (0..n)
        .map(|i| SigningKey::from_bytes(&[100 + i; 32]))
        .collect()
}

/// The dev validator hands over to four new validators; returns the change's
/// height and the new keys.
fn change_validators(app: &App) -> (u64, Vec<SigningKey>) {
    let keys = fresh_keys(4);
    let validators = keys
        .iter()
        .map(|k| Validator {
            public_key: PublicKey::of(k),
            power: 1,
        })
        .collect();
    run(app, "validator", &[], Payload::SetValidators { validators });
    let changed_at = app.tip().height;
    // The next block is still the old set's; from then on the new set signs.
    produce_one(app, &dev_key("validator")).unwrap();
    (changed_at, keys)
}

#[test]
fn after_a_validator_set_change_a_certificate_still_verifies_from_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let record = register(&app, "alice");
    let (changed_at, keys) = change_validators(&app);
    // Three of the four new validators sign: more than 2/3.
    produce_signed(&app, &keys[..3]).unwrap();
    let to = dev_subject("bob");
    submit(
        &app,
        "alice",
        &[],
        Payload::Transfer {
            record,
            to,
            amount: None,
        },
    );
    produce_signed(&app, &keys[1..]).unwrap();
    let height = app.tip().height;
    let genesis = dev_genesis().unwrap();
    let cert = crate::certify::record(&app.storage, &record, height).unwrap();
    let verified = verify(&cert, &genesis).unwrap();
    assert_eq!(verified.validator_set_changes, 1);
    let signers: Vec<_> = verified.certified_by.iter().map(|c| c.validator).collect();
    assert_eq!(
        signers,
        keys[1..].iter().map(PublicKey::of).collect::<Vec<_>>()
    );
    let owner = &record_finding(&verified).record.as_ref().unwrap().owner;
    assert_eq!(*owner, dev_subject("bob"));
    // A height between the change and its effect is still certified by the old set.
    let before = crate::certify::record(&app.storage, &record, changed_at + 1).unwrap();
    assert_eq!(verify(&before, &genesis).unwrap().validator_set_changes, 1);
    // Leaving that pending change out is caught by the state it is pending in.
    let mut omitted = before.clone();
    omitted.set_changes.clear();
    let effective_height = changed_at + 2;
    assert_eq!(
        verify(&omitted, &genesis),
        Err(VerifyError::ChainIncomplete { effective_height })
    );

    // Without the change, the new set's signatures mean nothing to a verifier.
    let mut dropped = cert.clone();
    dropped.set_changes.clear();
    let validator = PublicKey::of(&keys[1]);
    let place = Place::Certified { height };
    assert_eq!(
        verify(&dropped, &genesis),
        Err(VerifyError::UnknownSigner { place, validator })
    );
    // A forged signature in the change's own commit.
    let mut forged = cert.clone();
    forged.set_changes[0].commit.signatures[0].signature.0[5] ^= 1;
    let place = Place::SetChange {
        index: 1,
        height: changed_at,
    };
    let validator = PublicKey::of(&dev_key("validator"));
    assert_eq!(
        verify(&forged, &genesis),
        Err(VerifyError::BadSignature { place, validator })
    );
    // A different schedule than the one the change's state root commits to.
    let mut swapped = cert.clone();
    let value = swapped.set_changes[0].schedule.value.as_mut().unwrap();
    *value.last_mut().unwrap() ^= 1;
    assert!(matches!(
        verify(&swapped, &genesis),
        Err(VerifyError::Proof {
            place: Place::SetChange { .. },
            ..
        })
    ));
}

#[test]
fn each_tampered_part_is_named_and_another_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (app, record) = chain_with_a_record(dir.path());
    let height = app.tip().height;
    let cert = crate::certify::record(&app.storage, &record, height).unwrap();
    let genesis = dev_genesis().unwrap();
    let place = Place::Certified { height };
    let refused = |cert: &tamga_verify::Certificate| verify(cert, &genesis).unwrap_err();

    let mut c = cert.clone();
    let value = c
        .values
        .iter_mut()
        .find(|v| v.key == keys::record(&record))
        .unwrap();
    value.value.as_mut().unwrap()[40] ^= 1;
    assert!(
        matches!(refused(&c), VerifyError::Proof { ref what, .. } if what.starts_with("rec/")),
        "{}",
        refused(&c)
    );

    let mut c = cert.clone();
    c.header.time_ms += 1;
    assert!(
        matches!(refused(&c), VerifyError::CommitBlock { .. }),
        "{}",
        refused(&c)
    );

    let mut c = cert.clone();
    c.commit.signatures[0].signature.0[0] ^= 1;
    assert!(
        matches!(refused(&c), VerifyError::BadSignature { .. }),
        "{}",
        refused(&c)
    );

    let mut c = cert.clone();
    c.commit.signatures.push(c.commit.signatures[0].clone());
    assert!(
        matches!(refused(&c), VerifyError::DuplicateSigner { .. }),
        "{}",
        refused(&c)
    );

    let mut c = cert.clone();
    c.provenance.as_mut().unwrap().entries.remove(1);
    assert!(
        matches!(refused(&c), VerifyError::Provenance { .. }),
        "{}",
        refused(&c)
    );

    let mut c = cert.clone();
    c.values.retain(|v| v.key != keys::validators());
    assert!(
        matches!(refused(&c), VerifyError::Missing { .. }),
        "{}",
        refused(&c)
    );

    // Same validators and chain id, another genesis (a different start time).
    let mut other: Genesis = genesis.clone();
    other.genesis_time_ms += 1;
    let given = other.hash();
    let proven = genesis.hash();
    assert_eq!(
        verify(&cert, &other),
        Err(VerifyError::GenesisMismatch { proven, given })
    );
    let mut other = genesis.clone();
    other.chain_id = "tamga-other".into();
    assert!(
        matches!(verify(&cert, &other), Err(VerifyError::WrongChain { place: p, .. }) if p == place)
    );

    let mut bytes = cert.to_bytes();
    bytes[8] = 2;
    let expected = VerifyError::UnsupportedVersion {
        got: 2,
        supported: 1,
    };
    assert_eq!(verify_bytes(&bytes, &genesis), Err(expected));
}

#[test]
fn a_long_history_is_excerpted_and_the_earlier_entries_stay_committed() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let record = register(&app, "alice");
    // 160 lease/release pairs over eight blocks (within alice's mempool quota):
    // 321 entries in all.
    for round in 0..8 {
        for i in 0..20u32 {
            let holder = dev_subject("bob");
            let lease = Payload::Encumber {
                record,
                kind: EncumbranceKind::Lease,
                holder,
                document: None,
            };
            submit(&app, "alice", &["bob"], lease);
            let encumbrance = round * 20 + i + 1;
            submit(
                &app,
                "bob",
                &[],
                Payload::Release {
                    record,
                    encumbrance,
                },
            );
        }
        produce_one(&app, &dev_key("validator")).unwrap();
    }
    let height = app.tip().height;
    let cert = crate::certify::record(&app.storage, &record, height).unwrap();
    let verified = verify(&cert, &dev_genesis().unwrap()).unwrap();
    let provenance = record_finding(&verified).provenance.clone().unwrap();
    assert_eq!(provenance.total, 321);
    // Whole blocks of 40 entries, at least 256: the last seven blocks; the
    // registration and the first block's 40 are committed by the digest before.
    assert_eq!((provenance.earlier, provenance.entries.len()), (41, 280));
}

#[test]
fn a_participants_share_certificate_shows_its_fraction_of_the_condominium() {
    use tamga_runtime::condo::{Governance, Thresholds};
    use tamga_runtime::types::Founder;
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let founder = |name, numerator| Founder {
        subject: dev_subject(name),
        numerator,
    };
    let payload = Payload::CondoCreate {
        agreement: "Joint ownership of the access-control system, 5 Abai Ave.".into(),
        denominator: 6,
        participants: vec![founder("alice", 3), founder("bob", 2), founder("bank", 1)],
        governance: Governance::Voting {
            thresholds: Thresholds::default(),
        },
        preemption_blocks: 2,
    };
    let events = run(&app, "alice", &["bob", "bank"], payload);
    let Event::CondoCreated { condo, .. } = events[0] else {
        panic!("{events:?}")
    };
    let bob_share = events
        .iter()
        .find_map(|e| match e {
            Event::Registered { record, owner, .. } if *owner == dev_subject("bob") => {
                Some(*record)
            }
            _ => None,
        })
        .unwrap();
    let height = app.tip().height;
    let cert = crate::certify::record(&app.storage, &bob_share, height).unwrap();
    let verified = verify(&cert, &dev_genesis().unwrap()).unwrap();
    let share = record_finding(&verified)
        .share
        .clone()
        .expect("a share finding");
    assert_eq!(
        (share.condo, share.numerator, share.denominator),
        (condo, 2, 6)
    );
    let text = tamga_verify::render(&verified);
    assert!(
        text.contains(&format!("a share of 2/6 in condominium {condo}")),
        "{text}"
    );
    // Without the condominium's proven state the fraction cannot be shown.
    let mut stripped = cert.clone();
    stripped.values.retain(|v| v.key != keys::condo(&condo));
    assert!(matches!(
        verify(&stripped, &dev_genesis().unwrap()),
        Err(VerifyError::Missing { .. })
    ));
}

#[test]
fn a_short_commit_a_reordered_chain_and_a_stripped_value_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let record = register(&app, "alice");
    let (changed_at, keys) = change_validators(&app);
    produce_signed(&app, &keys).unwrap();
    let height = app.tip().height;
    let genesis = dev_genesis().unwrap();
    let cert = crate::certify::record(&app.storage, &record, height).unwrap();
    verify(&cert, &genesis).unwrap();
    let place = Place::Certified { height };
    // Two of four new validators: not more than 2/3.
    let mut short = cert.clone();
    short.commit.signatures.truncate(2);
    let expected = VerifyError::InsufficientPower {
        place,
        signed: 2,
        total: 4,
    };
    assert_eq!(verify(&short, &genesis), Err(expected));
    // The same change twice.
    let mut twice = cert.clone();
    twice.set_changes.push(twice.set_changes[0].clone());
    assert!(matches!(
        verify(&twice, &genesis),
        Err(VerifyError::ChainOrder { index: 2, .. })
    ));
    // A change after the certified block.
    let mut early = crate::certify::record(&app.storage, &record, changed_at - 1).unwrap();
    assert!(early.set_changes.is_empty());
    early.set_changes.push(cert.set_changes[0].clone());
    assert!(matches!(
        verify(&early, &genesis),
        Err(VerifyError::Inconsistent(_))
    ));
    // The record's own proven value left out: refused, never read as "absent".
    let mut stripped = cert.clone();
    stripped.values.retain(|v| v.key != keys::record(&record));
    assert!(matches!(
        verify(&stripped, &genesis),
        Err(VerifyError::Missing { .. })
    ));
    // Its history stripped from the excerpt: refused.
    let mut hidden = cert.clone();
    let excerpt = hidden.provenance.as_mut().unwrap();
    let proven = crate::storage::value_at(&app.storage, &keys::record(&record), height);
    let proven: tamga_runtime::records::Record =
        tamga_runtime::types::encoding::decode(&proven.unwrap().unwrap()).unwrap();
    excerpt.before = proven.provenance;
    excerpt.entries.clear();
    assert!(matches!(
        verify(&hidden, &genesis),
        Err(VerifyError::Provenance { .. })
    ));
    // Every single-byte change to a certificate that carries a set change.
    let bytes = cert.to_bytes();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x04;
        assert!(
            verify_bytes(&tampered, &genesis).is_err(),
            "byte {i} changed, accepted"
        );
    }
}
