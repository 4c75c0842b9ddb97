//! Unit tests for every record rule, run against in-memory state: each refusal names
//! its rule and leaves state exactly as it was.

use super::*;
use crate::execute::{apply_tx, verify_tx, BlockContext, TxError};
use crate::genesis::{Genesis, GenesisValidator};
use crate::state::{get_typed, keys, Overlay, StateRead};
use crate::types::{
    EncumbranceKind as Kind, Hash32, ObjectCategory as Cat, Payload, PublicKey, Quantity, SignedTx,
    Transaction,
};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

const CHAIN: &str = "test-chain";

struct Ledger {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    nonces: BTreeMap<PublicKey, u64>,
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}
fn pk(seed: u8) -> PublicKey {
    PublicKey::of(&key(seed))
}
const REGISTRAR: u8 = 1;
const ALICE: u8 = 2;
const BOB: u8 = 3;
const BANK: u8 = 4;
const CAROL: u8 = 5;

impl Ledger {
    fn new() -> Self {
        let genesis = Genesis {
            chain_id: CHAIN.into(),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                name: "v".into(),
                public_key: pk(9),
                power: 1,
            }],
            registrars: vec![pk(REGISTRAR)],
        };
        genesis.validate().unwrap();
        let state = genesis
            .initial_writes()
            .into_iter()
            .map(|(k, v)| (k, v.unwrap()))
            .collect();
        Ledger {
            state,
            nonces: BTreeMap::new(),
        }
    }

    fn signed(&mut self, signer: u8, payload: Payload, cosigners: &[u8]) -> SignedTx {
        let nonce = self.nonces.get(&pk(signer)).copied().unwrap_or(0);
        let tx = Transaction {
            chain_id: CHAIN.into(),
            signer: pk(signer),
            nonce,
            payload,
        };
        cosigners
            .iter()
            .fold(tx.sign(&key(signer)), |tx, c| tx.cosign(&key(*c)))
    }

    /// Applies a transaction; on refusal asserts state did not change.
    fn submit(&mut self, tx: SignedTx) -> Result<Vec<Event>, TxError> {
        let before = self.state.clone();
        let vtx = verify_tx(tx, CHAIN)?;
        let block = BlockContext {
            chain_id: CHAIN.into(),
            height: 1,
            time_ms: 1,
        };
        let mut overlay = Overlay::new(&self.state);
        let result = apply_tx(&mut overlay, &block, &vtx);
        let writes = overlay.into_writes();
        match &result {
            Ok(_) => {
                for (k, v) in writes {
                    match v {
                        Some(v) => self.state.insert(k, v),
                        None => self.state.remove(&k),
                    };
                }
                *self.nonces.entry(vtx.tx.tx.signer).or_default() += 1;
            }
            Err(_) => assert!(
                writes.is_empty() && self.state == before,
                "refusal changed state"
            ),
        }
        result
    }

    fn run(
        &mut self,
        signer: u8,
        payload: Payload,
        cosigners: &[u8],
    ) -> Result<Vec<Event>, TxError> {
        let tx = self.signed(signer, payload, cosigners);
        self.submit(tx)
    }

    fn record(&self, id: &Hash32) -> Record {
        get_typed(&self.state as &dyn StateRead, &keys::record(id))
            .unwrap()
            .unwrap()
    }

    fn register_tangible(&mut self, owner: u8, national: bool) -> Hash32 {
        let payload = Payload::Register {
            category: Cat::Tangible,
            description: "Flat 12, 5 Abai Ave, Almaty".into(),
            owner: pk(owner),
            national,
            quantity: None,
        };
        match self.run(REGISTRAR, payload, &[]).unwrap().as_slice() {
            [Event::Registered { record, .. }] => *record,
            other => panic!("unexpected events {other:?}"),
        }
    }
}

fn reason(result: Result<Vec<Event>, TxError>) -> &'static str {
    match result {
        Ok(events) => panic!("expected a refusal, got {events:?}"),
        Err(e) => e.reason(),
    }
}

fn transfer(record: Hash32, to: u8) -> Payload {
    Payload::Transfer {
        record,
        to: pk(to),
        amount: None,
    }
}
fn pledge(record: Hash32, holder: u8) -> Payload {
    Payload::Encumber {
        record,
        kind: Kind::Pledge,
        holder: pk(holder),
        document: None,
    }
}

#[test]
fn registrar_registers_tangible_and_owner_transfers() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    assert_eq!(l.record(&id).owner, pk(ALICE));
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
    assert_eq!(l.record(&id).owner, pk(BOB));
}

#[test]
fn only_registrar_registers_tangible_objects() {
    let mut l = Ledger::new();
    let payload = Payload::Register {
        category: Cat::Tangible,
        description: "tractor".into(),
        owner: pk(ALICE),
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
        owner: pk(BOB),
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
    assert_eq!(record.owner, pk(BOB));
    assert_eq!(record.encumbrances.len(), 1);
    assert_eq!(record.encumbrances[0].holder, pk(BANK));
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
        holder: pk(CAROL),
        document: Some(Hash32([3; 32])),
    };
    l.run(ALICE, lease, &[]).unwrap();
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
    let record = l.record(&id);
    assert_eq!(record.owner, pk(BOB));
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
        holder: pk(CAROL),
        document: None,
    };
    l.run(ALICE, lien, &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[])),
        "record.encumbrance_consent_missing"
    );
}

#[test]
fn arrest_only_by_authority_and_blocks_all_disposal() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    let arrest = |holder| Payload::Encumber {
        record: id,
        kind: Kind::Arrest,
        holder: pk(holder),
        document: Some(Hash32([1; 32])),
    };
    assert_eq!(
        reason(l.run(BANK, arrest(BANK), &[ALICE])),
        "record.arrest_needs_authority"
    );
    assert_eq!(
        reason(l.run(REGISTRAR, arrest(BANK), &[])),
        "record.arrest_needs_authority"
    );
    l.run(REGISTRAR, arrest(REGISTRAR), &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[REGISTRAR])),
        "record.arrested"
    );
    l.run(
        REGISTRAR,
        Payload::Release {
            record: id,
            encumbrance: 1,
        },
        &[],
    )
    .unwrap();
    l.run(ALICE, transfer(id, BOB), &[]).unwrap();
}

#[test]
fn national_objects_cannot_be_alienated_or_encumbered() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, true);
    assert_eq!(
        reason(l.run(ALICE, transfer(id, BOB), &[])),
        "record.national_object"
    );
    assert_eq!(
        reason(l.run(BANK, pledge(id, BANK), &[ALICE])),
        "record.national_object"
    );
    let lease = Payload::Encumber {
        record: id,
        kind: Kind::Lease,
        holder: pk(BOB),
        document: None,
    };
    assert_eq!(reason(l.run(ALICE, lease, &[])), "record.national_object");
    let arrest = Payload::Encumber {
        record: id,
        kind: Kind::Arrest,
        holder: pk(REGISTRAR),
        document: None,
    };
    assert_eq!(
        reason(l.run(REGISTRAR, arrest, &[])),
        "record.national_object"
    );
}

#[test]
fn only_registrar_designates_national_objects() {
    let mut l = Ledger::new();
    let payload = Payload::Register {
        category: Cat::Digital,
        description: "state register".into(),
        owner: pk(ALICE),
        national: true,
        quantity: None,
    };
    assert_eq!(
        reason(l.run(ALICE, payload, &[])),
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

fn grain_class(l: &mut Ledger, issuer: u8, category: Cat) -> Hash32 {
    let payload = Payload::RegisterClass {
        category,
        name: "wheat, class 3".into(),
        unit: "kg".into(),
        national: false,
    };
    match l.run(issuer, payload, &[]).unwrap().as_slice() {
        [Event::ClassRegistered { class, .. }] => *class,
        other => panic!("unexpected events {other:?}"),
    }
}

fn issue(
    l: &mut Ledger,
    issuer: u8,
    class: Hash32,
    owner: u8,
    amount: u64,
) -> Result<Vec<Event>, TxError> {
    let payload = Payload::Register {
        category: Cat::Tangible,
        description: "elevator receipt".into(),
        owner: pk(owner),
        national: false,
        quantity: Some(Quantity { class, amount }),
    };
    l.run(issuer, payload, &[])
}

#[test]
fn fungible_partial_transfer_splits_the_holding() {
    let mut l = Ledger::new();
    let class = grain_class(&mut l, REGISTRAR, Cat::Tangible);
    let id = match issue(&mut l, REGISTRAR, class, ALICE, 1000)
        .unwrap()
        .as_slice()
    {
        [Event::Registered { record, .. }] => *record,
        other => panic!("{other:?}"),
    };
    let part = |amount| Payload::Transfer {
        record: id,
        to: pk(BOB),
        amount: Some(amount),
    };
    assert_eq!(reason(l.run(ALICE, part(0), &[])), "record.invalid_amount");
    assert_eq!(
        reason(l.run(ALICE, part(1001), &[])),
        "record.invalid_amount"
    );
    let events = l.run(ALICE, part(300), &[]).unwrap();
    let Event::SplitOff { record: split, .. } = events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(l.record(&id).asset, Asset::Fungible { class, amount: 700 });
    assert_eq!(
        l.record(&split).asset,
        Asset::Fungible { class, amount: 300 }
    );
    assert_eq!(l.record(&split).owner, pk(BOB));
    // A pledged holding moves only whole.
    l.run(ALICE, pledge(id, BANK), &[]).unwrap();
    assert_eq!(
        reason(l.run(ALICE, part(100), &[BANK])),
        "record.encumbered_partial_transfer"
    );
    l.run(
        ALICE,
        Payload::Transfer {
            record: id,
            to: pk(BOB),
            amount: Some(700),
        },
        &[BANK],
    )
    .unwrap();
    assert_eq!(l.record(&id).owner, pk(BOB));
}

#[test]
fn only_the_class_issuer_issues_and_categories_match() {
    let mut l = Ledger::new();
    let class = grain_class(&mut l, REGISTRAR, Cat::Tangible);
    assert_eq!(
        reason(issue(&mut l, ALICE, class, ALICE, 5)),
        "record.not_class_issuer"
    );
    assert_eq!(
        reason(issue(&mut l, REGISTRAR, Hash32([0; 32]), ALICE, 5)),
        "record.class_not_found"
    );
    assert_eq!(
        reason(issue(&mut l, REGISTRAR, class, ALICE, 0)),
        "record.invalid_amount"
    );
    let claims = grain_class(&mut l, ALICE, Cat::Claim);
    assert_eq!(
        reason(issue(&mut l, ALICE, claims, ALICE, 5)),
        "record.category_mismatch"
    );
    let unique = l.register_tangible(ALICE, false);
    let split = Payload::Transfer {
        record: unique,
        to: pk(BOB),
        amount: Some(1),
    };
    assert_eq!(reason(l.run(ALICE, split, &[])), "record.not_fungible");
}

#[test]
fn tangible_classes_need_a_registrar() {
    let mut l = Ledger::new();
    let payload = Payload::RegisterClass {
        category: Cat::Tangible,
        name: "x".into(),
        unit: "t".into(),
        national: false,
    };
    assert_eq!(
        reason(l.run(ALICE, payload, &[])),
        "record.registrar_required"
    );
}

#[test]
fn text_limits_are_enforced() {
    let mut l = Ledger::new();
    let long = Payload::Register {
        category: Cat::Digital,
        description: "x".repeat(crate::limits::TEXT_BYTES_MAX + 1),
        owner: pk(ALICE),
        national: false,
        quantity: None,
    };
    assert_eq!(reason(l.run(ALICE, long, &[])), "record.text_too_long");
    let empty = Payload::RegisterClass {
        category: Cat::Claim,
        name: " ".into(),
        unit: "KZT".into(),
        national: false,
    };
    assert_eq!(reason(l.run(ALICE, empty, &[])), "record.text_empty");
}

#[test]
fn encumbrance_count_is_bounded() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    for _ in 0..crate::limits::ENCUMBRANCES_PER_RECORD_MAX {
        l.run(ALICE, pledge(id, BANK), &[]).unwrap();
    }
    assert_eq!(
        reason(l.run(ALICE, pledge(id, BANK), &[])),
        "record.too_many_encumbrances"
    );
}

#[test]
fn envelope_refusals_replay_chain_and_signatures() {
    let mut l = Ledger::new();
    let id = l.register_tangible(ALICE, false);
    // Replay: the same signed transaction twice.
    let tx = l.signed(ALICE, transfer(id, BOB), &[]);
    l.submit(tx.clone()).unwrap();
    assert_eq!(reason(l.submit(tx)), "tx.nonce_replayed");
    // A nonce from the future.
    let mut ahead = Transaction {
        chain_id: CHAIN.into(),
        signer: pk(BOB),
        nonce: 5,
        payload: transfer(id, ALICE),
    };
    assert_eq!(
        reason(l.submit(ahead.clone().sign(&key(BOB)))),
        "tx.nonce_gap"
    );
    // Wrong chain.
    ahead.nonce = 0;
    ahead.chain_id = "other-chain".into();
    assert_eq!(
        reason(l.submit(ahead.clone().sign(&key(BOB)))),
        "tx.wrong_chain"
    );
    // Signature by another key; tampered payload after signing.
    ahead.chain_id = CHAIN.into();
    let mut forged = ahead.clone().sign(&key(BOB));
    forged.signature = ahead.clone().sign(&key(BOB)).signature;
    forged.tx.payload = transfer(id, CAROL);
    assert_eq!(reason(l.submit(forged)), "tx.bad_signature");
    let mut bad_cosig = ahead.sign(&key(BOB)).cosign(&key(BANK));
    bad_cosig.cosignatures[0].signer = pk(CAROL);
    assert_eq!(reason(l.submit(bad_cosig)), "tx.bad_cosignature");
}

#[test]
fn canonical_encoding_round_trips_and_rejects_garbage() {
    let mut l = Ledger::new();
    let tx = l.signed(ALICE, transfer(Hash32([1; 32]), BOB), &[BANK]);
    let bytes = crate::types::encoding::encode(&tx);
    assert_eq!(crate::execute::decode_tx(&bytes), Ok(tx));
    assert_eq!(
        crate::execute::decode_tx(&bytes[..bytes.len() - 1])
            .unwrap_err()
            .reason(),
        "tx.malformed"
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        crate::execute::decode_tx(&trailing).unwrap_err().reason(),
        "tx.malformed"
    );
    let huge = vec![0u8; crate::limits::TX_BYTES_MAX + 1];
    assert_eq!(
        crate::execute::decode_tx(&huge).unwrap_err().reason(),
        "tx.too_large"
    );
}
