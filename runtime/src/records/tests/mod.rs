//! Unit tests for every record rule, run against in-memory state: each refusal names
//! its rule and leaves state exactly as it was. This module holds the in-memory
//! ledger they share; the tests are grouped by what they exercise.

mod condo;
mod condo_governance;
mod contracts;
mod documents;
mod envelope;
mod fungible;
mod legal;
mod pki;
mod unique;
mod validators;

use super::*;
use crate::execute::{apply_tx, verify_tx, BlockContext, TxError};
use crate::genesis::{Genesis, GenesisValidator};
use crate::pki::{GenesisCertificate, Role, SubjectKind};
use crate::state::{get_typed, keys, Overlay, StateRead};
use crate::types::{
    encoding, EncumbranceKind as Kind, Hash32, ObjectCategory as Cat, Payload, PublicKey, Quantity,
    SignedTx, SubjectId, Transaction,
};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

pub(super) const CHAIN: &str = "test-chain";

/// One sandbox for all tests in this binary: an engine reserves its instance pool.
pub(super) fn shared_vm() -> std::sync::Arc<crate::contracts::Vm> {
    static VM: std::sync::OnceLock<std::sync::Arc<crate::contracts::Vm>> =
        std::sync::OnceLock::new();
    VM.get_or_init(|| std::sync::Arc::new(crate::contracts::Vm::new().expect("wasm engine")))
        .clone()
}

pub(super) struct Ledger {
    pub(super) state: BTreeMap<Vec<u8>, Vec<u8>>,
    nonces: BTreeMap<PublicKey, u64>,
    /// Height of the block the next transaction executes in.
    pub(super) height: u64,
}

pub(super) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}
pub(super) fn pk(seed: u8) -> PublicKey {
    PublicKey::of(&key(seed))
}
/// The subject a test seed's genesis certificate names.
pub(super) fn sid(seed: u8) -> SubjectId {
    crate::pki::identifier::subject_of(&Hash32([seed; 32]))
}
pub(super) const REGISTRAR: u8 = 1;
pub(super) const ALICE: u8 = 2;
pub(super) const BOB: u8 = 3;
pub(super) const BANK: u8 = 4;
pub(super) const CAROL: u8 = 5;
/// A state body certified with the court role.
pub(super) const COURT: u8 = 6;
/// A state body with no special role (holds national objects).
pub(super) const MINISTRY: u8 = 7;
/// The root certification authority.
pub(super) const ROOT: u8 = 20;
/// A key no certificate names.
pub(super) const STRANGER: u8 = 40;
/// Seeds certified at genesis: 1..=30 (arbiters are 11..=14).
const CERTIFIED_MAX: u8 = 30;

/// Who each certified seed is, and its roles.
fn genesis_subject(seed: u8) -> (SubjectKind, Vec<Role>, bool) {
    match seed {
        REGISTRAR => (SubjectKind::StateBody, vec![Role::Registrar], false),
        COURT => (SubjectKind::StateBody, vec![Role::Court], false),
        MINISTRY => (SubjectKind::StateBody, vec![], false),
        BANK | 9 | 10 => (SubjectKind::LegalEntity, vec![], false),
        11..=14 => (SubjectKind::Individual, vec![Role::Arbiter], false),
        ROOT => (SubjectKind::LegalEntity, vec![Role::Authority], true),
        _ => (SubjectKind::Individual, vec![], false),
    }
}

fn genesis_certificates() -> Vec<GenesisCertificate> {
    (1..=CERTIFIED_MAX)
        .map(|seed| {
            let (kind, roles, root) = genesis_subject(seed);
            GenesisCertificate {
                label: format!("seed{seed}"),
                key: pk(seed),
                kind,
                identifier: Hash32([seed; 32]),
                name: Hash32([seed.wrapping_add(100); 32]),
                roles,
                root,
            }
        })
        .collect()
}

impl Ledger {
    pub(super) fn new() -> Self {
        Self::with_validators(&[(9, 1)])
    }

    /// A ledger whose genesis set is `(seed, power)` pairs.
    pub(super) fn with_validators(validators: &[(u8, u64)]) -> Self {
        let validators = validators
            .iter()
            .map(|&(seed, power)| GenesisValidator {
                name: format!("v{seed}"),
                public_key: pk(seed),
                power,
            })
            .collect();
        let genesis = Genesis {
            chain_id: CHAIN.into(),
            genesis_time_ms: 0,
            validators,
            certificates: genesis_certificates(),
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
            height: 1,
        }
    }

    pub(super) fn signed(&mut self, signer: u8, payload: Payload, cosigners: &[u8]) -> SignedTx {
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
    /// The transaction and its events are encoded as the node stores them, which
    /// checks bincode's own encoding against serde's (see `encoding::encode`).
    pub(super) fn submit(&mut self, tx: SignedTx) -> Result<Vec<Event>, TxError> {
        let before = self.state.clone();
        encoding::encode(&tx);
        let vtx = verify_tx(tx, CHAIN)?;
        let block = BlockContext {
            chain_id: CHAIN.into(),
            height: self.height,
            time_ms: self.height * 1000,
            vm: shared_vm(),
        };
        let mut overlay = Overlay::new(&self.state);
        let result = apply_tx(&mut overlay, &block, &vtx);
        let writes = overlay.into_writes();
        match &result {
            Ok(events) => {
                encoding::encode(events);
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

    pub(super) fn run(
        &mut self,
        signer: u8,
        payload: Payload,
        cosigners: &[u8],
    ) -> Result<Vec<Event>, TxError> {
        let tx = self.signed(signer, payload, cosigners);
        self.submit(tx)
    }

    pub(super) fn record(&self, id: &Hash32) -> Record {
        get_typed(&self.state as &dyn StateRead, &keys::record(id))
            .unwrap()
            .unwrap()
    }

    pub(super) fn register_tangible(&mut self, owner: u8, national: bool) -> Hash32 {
        let payload = Payload::Register {
            category: Cat::Tangible,
            description: "Flat 12, 5 Abai Ave, Almaty".into(),
            owner: sid(owner),
            national,
            quantity: None,
        };
        match self.run(REGISTRAR, payload, &[]).unwrap().as_slice() {
            [Event::Registered { record, .. }] => *record,
            other => panic!("unexpected events {other:?}"),
        }
    }
}

pub(super) fn reason(result: Result<Vec<Event>, TxError>) -> &'static str {
    match result {
        Ok(events) => panic!("expected a refusal, got {events:?}"),
        Err(e) => e.reason(),
    }
}

pub(super) fn transfer(record: Hash32, to: u8) -> Payload {
    Payload::Transfer {
        record,
        to: sid(to),
        amount: None,
    }
}
pub(super) fn pledge(record: Hash32, holder: u8) -> Payload {
    Payload::Encumber {
        record,
        kind: Kind::Pledge,
        holder: sid(holder),
        document: None,
    }
}
