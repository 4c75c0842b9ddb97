//! The three consensus-facing steps without a network: a block built and committed
//! on one node is accepted by a second with the same state root; tampered blocks
//! are refused; storage reopens at the same tip and state.

use super::*;
use crate::cli::dev_genesis;
use crate::clock::now_ms;
use crate::keyring::dev_key;
use crate::mempool::MempoolLimits;
use crate::node::genesis_hash;
use ed25519_dalek::{Signer, SigningKey};
use std::sync::Arc;
use tamga_runtime::contracts::Vm;
use tamga_runtime::types::{ObjectCategory, Payload, Transaction};
use tamga_runtime::{verify_tx, Genesis};

pub(crate) fn open_app(dir: &std::path::Path) -> App {
    open_app_building(dir, 100)
}

/// [`open_app`] building blocks of at most `block_txs_max` transactions.
fn open_app_building(dir: &std::path::Path, block_txs_max: usize) -> App {
    let genesis = dev_genesis().unwrap();
    let storage = Storage::open(dir, &crate::storage::CacheBudget::DEFAULT).unwrap();
    let tip = storage
        .init_genesis(
            genesis_hash(&genesis),
            &genesis.initial_writes(),
            genesis.genesis_time_ms,
        )
        .unwrap();
    app_on(storage, tip, dir, block_txs_max)
}

/// An app of the dev chain on `storage` at `tip`, its vault in `dir`.
pub(crate) fn app_on(
    storage: Storage,
    tip: Tip,
    dir: &std::path::Path,
    block_txs_max: usize,
) -> App {
    let limits = MempoolLimits {
        txs_max: 100,
        bytes_max: 1 << 20,
        signer_txs_max: 50,
    };
    App::new(
        storage,
        dev_genesis().unwrap().chain_id,
        Mempool::new(limits),
        tip,
        block_txs_max,
        Arc::new(Vm::new().unwrap()),
        crate::vault::Vault::open(dir.join("vault")).unwrap(),
    )
}

/// Builds a block and commits it with the lone validator's own precommit, as a
/// one-validator consensus would.
pub(crate) fn produce_one(app: &App, key: &SigningKey) -> Result<Tip, BlockError> {
    produce_signed(app, std::slice::from_ref(key))
}

/// Builds a block proposed by the first of `validators` and commits it with a
/// precommit from each of them.
pub(crate) fn produce_signed(app: &App, validators: &[SigningKey]) -> Result<Tip, BlockError> {
    let (executed, commit, dropped) = decide_signed(app, validators)?;
    app.commit_block(executed, commit, dropped)
}

/// A block decided but not yet committed: its execution, its commit and
/// the transactions it dropped.
pub(crate) type Decided = (ExecutedBlock, Commit, Vec<(Hash32, TxError)>);

/// The next block, built by the first of `validators`, with their commit
/// (not yet committed).
pub(crate) fn decide_signed(app: &App, validators: &[SigningKey]) -> Result<Decided, BlockError> {
    let (executed, dropped) = app.build_block(now_ms(), PublicKey::of(&validators[0]))?;
    let header = &executed.block.header;
    let block_hash = header.hash();
    let sign_bytes = Commit::sign_bytes(&header.chain_id, header.height, 0, &block_hash);
    let signatures = validators
        .iter()
        .map(|key| tamga_runtime::types::CommitSig {
            validator: PublicKey::of(key),
            signature: tamga_runtime::Signature(key.sign(&sign_bytes.0).to_bytes()),
        })
        .collect();
    let commit = Commit {
        height: header.height,
        round: 0,
        block_hash,
        signatures,
    };
    Ok((executed, commit, dropped))
}

/// The dev registrar registers a digital object for `owner` in a block of its own.
pub(crate) fn register_digital(app: &App, owner: &str, description: String) -> Hash32 {
    let payload = tamga_runtime::types::Payload::Register {
        category: ObjectCategory::Digital,
        description,
        owner: dev_subject(owner),
        national: false,
        quantity: None,
    };
    match run(app, "registrar", &[], payload)[0] {
        tamga_runtime::records::Event::Registered { record, .. } => record,
        ref other => panic!("{other:?}"),
    }
}

/// Signs `payload` as dev account `signer` with `cosigners`, commits it in a
/// block of its own (precommitted by the dev validator), and returns its events.
pub(crate) fn run(
    app: &App,
    signer: &str,
    cosigners: &[&str],
    payload: tamga_runtime::types::Payload,
) -> Vec<tamga_runtime::records::Event> {
    let id = submit(app, signer, cosigners, payload);
    produce_one(app, &dev_key("validator")).unwrap();
    app.storage
        .tx_location(&id)
        .unwrap()
        .expect("committed")
        .events
}

/// Signs `payload` as dev account `signer` with `cosigners` and admits it to the
/// mempool for the next block.
pub(crate) fn submit(
    app: &App,
    signer: &str,
    cosigners: &[&str],
    payload: tamga_runtime::types::Payload,
) -> Hash32 {
    try_submit(app, signer, cosigners, payload).unwrap()
}

/// Like [`submit`], returning the refusal's stable reason.
pub(crate) fn submit_result(
    app: &App,
    signer: &str,
    payload: tamga_runtime::types::Payload,
) -> Result<Hash32, &'static str> {
    try_submit(app, signer, &[], payload).map_err(|e| e.reason())
}

fn try_submit(
    app: &App,
    signer: &str,
    cosigners: &[&str],
    payload: tamga_runtime::types::Payload,
) -> Result<Hash32, crate::mempool::AdmitError> {
    let key = dev_key(signer);
    let public = PublicKey::of(&key);
    let nonce = app.mempool().next_nonce(&app.storage, &public).unwrap();
    let tx = Transaction {
        chain_id: app.chain_id.clone(),
        signer: public,
        nonce,
        payload,
    };
    let signed = cosigners
        .iter()
        .fold(tx.sign(&key), |tx, c| tx.cosign(&dev_key(c)));
    let vtx = tamga_runtime::verify_tx(signed, &app.chain_id).unwrap();
    let id = vtx.id;
    let next = app.next_context(now_ms());
    app.mempool().admit(&app.storage, &next, vtx, 500)?;
    Ok(id)
}

/// The subject dev account `name` is certified for.
pub(crate) fn dev_subject(name: &str) -> tamga_runtime::SubjectId {
    let account = crate::devnet::DEV_ACCOUNTS.iter().find(|a| a.name == name);
    account.expect("a dev account").identity().subject
}

/// The registrar's registration of plot `nonce` for alice, signed.
pub(crate) fn registration(app: &App, nonce: u64) -> SignedTx {
    let registrar = dev_key("registrar");
    let payload = Payload::Register {
        category: ObjectCategory::Tangible,
        description: format!("plot {nonce}"),
        owner: dev_subject("alice"),
        national: false,
        quantity: None,
    };
    Transaction {
        chain_id: app.chain_id.clone(),
        signer: PublicKey::of(&registrar),
        nonce,
        payload,
    }
    .sign(&registrar)
}

/// Verifies `tx` and admits it to `app`'s mempool; returns its id.
pub(crate) fn admit_signed(app: &App, tx: SignedTx) -> Hash32 {
    let vtx = verify_tx(tx, &app.chain_id).unwrap();
    let id = vtx.id;
    app.mempool()
        .admit(&app.storage, &app.next_context(now_ms()), vtx, 300)
        .unwrap();
    id
}

pub(crate) fn admit_registration(app: &App, nonce: u64) -> Hash32 {
    admit_signed(app, registration(app, nonce))
}

/// A node whose warm-up never started (`warm_caches = false`) reports it
/// off, and one that started reports how it ended.
#[test]
fn the_warm_up_is_off_until_started() {
    let dir = tempfile::tempdir().unwrap();
    let app = std::sync::Arc::new(open_app(dir.path()));
    assert_eq!(app.warm_up(), crate::storage::WarmUpStatus::default());
    assert_eq!(app.warm_up().state, crate::storage::WarmUpState::Off);
    let warming = crate::storage::Warming::start(app.clone(), |app| &app.storage).unwrap();
    warming.finish();
    app.warming.set(warming).ok().expect("set once");
    assert_eq!(app.warm_up().state, crate::storage::WarmUpState::Done);
}

#[test]
fn a_committed_block_replays_on_another_node_and_tampering_is_refused() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open_app(dir_a.path());
    let b = open_app(dir_b.path());
    assert_eq!(a.tip(), b.tip(), "same genesis, same root");
    admit_registration(&a, 0);
    admit_registration(&a, 1);
    let tip = produce_one(&a, &dev_key("validator")).unwrap();
    let block = a.storage.block(1).unwrap().unwrap();
    assert_eq!(block.txs.len(), 2);
    assert!(
        a.mempool().is_empty(),
        "committed transactions leave the mempool"
    );

    let mut wrong_root = block.clone();
    wrong_root.header.state_root = Hash32([1; 32]);
    assert!(matches!(
        b.execute_block(wrong_root),
        Err(BlockError::StateRoot { .. })
    ));
    let mut missing_tx = block.clone();
    missing_tx.txs.pop();
    assert!(matches!(
        b.execute_block(missing_tx),
        Err(BlockError::TxsHash)
    ));
    let mut old_time = block.clone();
    old_time.header.time_ms = b.tip().time_ms;
    assert!(matches!(
        b.execute_block(old_time),
        Err(BlockError::Time { .. })
    ));
    let mut wrong_height = block.clone();
    wrong_height.header.height = 2;
    assert!(matches!(
        b.execute_block(wrong_height),
        Err(BlockError::Height { .. })
    ));

    let executed = b.execute_block(block).unwrap();
    let commit = a.storage.commit(1).unwrap().unwrap();
    let tip_b = b.commit_block(executed, commit, vec![]).unwrap();
    assert_eq!(tip_b, tip, "both nodes agree on hash and state root");
}

/// A block's size is judged by the protocol's bound, not by the validator's own
/// `block_txs_max` (which only sizes what it builds): a node building blocks
/// of one transaction executes another's block of two, and refuses a block
/// one transaction over `BLOCK_TXS_MAX` before checking anything in it.
#[test]
fn a_block_is_sized_by_the_protocol_not_by_the_validators_own_setting() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open_app(dir_a.path());
    let b = open_app_building(dir_b.path(), 1);
    admit_registration(&a, 0);
    admit_registration(&a, 1);
    produce_one(&a, &dev_key("validator")).unwrap();
    let block = a.storage.block(1).unwrap().unwrap();
    assert_eq!(block.txs.len(), 2);
    let mut over = block.clone();
    over.txs = vec![block.txs[0].clone(); BLOCK_TXS_MAX + 1];
    let refused = b.execute_block(over).map(|_| ()).unwrap_err();
    assert!(
        matches!(refused, BlockError::TooManyTxs { got, max }
            if got == BLOCK_TXS_MAX + 1 && max == BLOCK_TXS_MAX),
        "{refused}"
    );
    b.execute_block(block).unwrap();
}

#[test]
fn storage_reopens_at_the_same_tip_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let (tip, id) = {
        let app = open_app(dir.path());
        let tx = admit_registration(&app, 0);
        produce_one(&app, &dev_key("validator")).unwrap();
        produce_one(&app, &dev_key("validator")).unwrap();
        let location = app.storage.tx_location(&tx).unwrap().unwrap();
        let Event::Registered { record, .. } = location.events[0] else {
            panic!("{location:?}")
        };
        (app.tip(), record)
    };
    let app = open_app(dir.path());
    assert_eq!(app.tip(), tip);
    assert_eq!(app.tip().height, 2);
    let alice = dev_subject("alice");
    assert_eq!(app.storage.record(&id).unwrap().unwrap().owner, alice);
    assert_eq!(app.storage.history(&id, 0, 10).unwrap().len(), 1);
    assert_eq!(
        app.storage.records_by_owner(&alice, None, 10).unwrap(),
        vec![id]
    );
    let other_genesis = Genesis {
        chain_id: "other".into(),
        ..dev_genesis().unwrap()
    };
    let storage = &app.storage;
    assert!(matches!(
        storage.init_genesis(
            genesis_hash(&other_genesis),
            &other_genesis.initial_writes(),
            0
        ),
        Err(StorageError::GenesisMismatch { .. })
    ));
}

/// A state value that does not decode is this node's corruption, not the block's
/// fault: executing the block reports a node-local failure (the host stops the
/// node on it, never votes nil), and admission refuses without remembering the
/// transaction as rejected.
#[test]
fn a_corrupt_state_value_is_a_local_failure_not_a_verdict() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open_app(dir_a.path());
    let b = open_app(dir_b.path());
    admit_registration(&a, 0);
    let (built, _) = a
        .build_block(now_ms(), PublicKey::of(&dev_key("validator")))
        .unwrap();
    let registrar = PublicKey::of(&dev_key("registrar"));
    let key = tamga_runtime::state::keys::account(&registrar);
    b.storage.corrupt_state(&key, &[0xff; 3]);
    let Err(error) = b.execute_block(built.block) else {
        panic!("a block over corrupt state must not execute");
    };
    assert!(error.is_local(), "{error}");
    assert!(error.to_string().contains("corrupt"), "{error}");

    let tx = Transaction {
        chain_id: b.chain_id.clone(),
        signer: registrar,
        nonce: 0,
        payload: Payload::Register {
            category: ObjectCategory::Tangible,
            description: "plot".into(),
            owner: dev_subject("alice"),
            national: false,
            quantity: None,
        },
    }
    .sign(&dev_key("registrar"));
    let vtx = verify_tx(tx, &b.chain_id).unwrap();
    let id = vtx.id;
    let refused = b
        .mempool()
        .admit(&b.storage, &b.next_context(now_ms()), vtx, 200)
        .unwrap_err();
    assert_eq!(refused.reason(), "node.state_corrupt", "{refused}");
    assert!(
        b.mempool().status(&id).is_none(),
        "not remembered as rejected"
    );
}

/// Building stops taking transactions at its deadline: the rest stay pending for
/// the next block, and a proposal never outlives its round's timeout because
/// the pool was deep or the state slow.
#[test]
fn building_stops_at_its_deadline_and_the_rest_stay_pending() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let first = admit_registration(&app, 0);
    admit_registration(&app, 1);
    let proposer = PublicKey::of(&dev_key("validator"));
    let fuel = tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX;
    let passed = Some(std::time::Instant::now());
    let (late, dropped) = app
        .build_block_within(now_ms(), proposer, fuel, passed)
        .unwrap();
    assert!(late.block.txs.is_empty() && dropped.is_empty());
    assert!(matches!(
        app.mempool().status(&first),
        Some(crate::mempool::TxStatus::Pending)
    ));
    let (built, _) = app
        .build_block_within(now_ms(), proposer, fuel, None)
        .unwrap();
    assert_eq!(built.block.txs.len(), 2);
}

/// A commit drops the proposals at or below its height, keeps those above it,
/// and deletes them key by key, leaving no range tombstone behind (each one
/// would be sorted again on every later read of the column family).
#[test]
fn a_commit_prunes_proposals_at_or_below_its_height_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let storage = &app.storage;
    let (id, block) = (Hash32([7; 32]), b"block bytes".as_slice());
    for height in 1..=3 {
        storage.save_own_proposal(height, 0, &id, block).unwrap();
    }
    produce_one(&app, &dev_key("validator")).unwrap();
    produce_one(&app, &dev_key("validator")).unwrap();
    for height in 1..=2 {
        assert_eq!(
            storage.proposal(height, &id).unwrap(),
            None,
            "height {height}"
        );
        assert_eq!(
            storage.own_proposal(height, 0).unwrap(),
            None,
            "height {height}"
        );
    }
    assert_eq!(storage.proposal(3, &id).unwrap().as_deref(), Some(block));
    assert_eq!(storage.own_proposal(3, 0).unwrap(), Some(id));
    // Two heights pruned in each of the two column families, key by key.
    assert_eq!(storage.proposal_point_deletes(), 4);
}

/// A record moved A→B→A within one block is indexed under its last owner only,
/// with both moves in its history: every owner-index write of the commit goes
/// through one sorted buffer that keeps a key's writes in the order made
/// (storage/ordered.rs, whose own test pins that the sort is stable: four
/// writes are too few to tell a stable sort from an unstable one).
#[test]
fn a_record_moved_there_and_back_in_one_block_is_indexed_under_its_last_owner() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let record = register_digital(&app, "alice", "a title".into());
    let transfer = |to: &str| Payload::Transfer {
        record,
        to: dev_subject(to),
        amount: None,
    };
    let there = submit(&app, "alice", &[], transfer("bob"));
    let back = submit(&app, "bob", &[], transfer("alice"));
    produce_one(&app, &dev_key("validator")).unwrap();
    let height = app.tip().height;
    for id in [there, back] {
        let location = app.storage.tx_location(&id).unwrap().expect("committed");
        assert_eq!(location.height, height, "both moves in one block");
    }
    let owned = |who: &str| {
        app.storage
            .records_by_owner(&dev_subject(who), None, 10)
            .unwrap()
    };
    assert_eq!(owned("alice"), vec![record], "indexed under its last owner");
    assert!(owned("bob").is_empty(), "not under the owner in between");
    // History keys are distinct (record, height, tx, event): read back in key
    // order whatever the write order, so this checks that both moves were kept.
    let history = app.storage.history(&record, 0, 10).unwrap();
    let txs: Vec<Hash32> = history.iter().map(|entry| entry.tx).collect();
    assert_eq!(txs.len(), 3, "registered, there, back: {txs:?}");
    assert_eq!(txs[1..], [there, back], "history in order");
}

/// A certificate from the dev authority for a new individual, `seed` naming it.
pub(crate) fn certify_someone(seed: u8) -> Payload {
    use tamga_runtime::pki::{Point, SubjectKind, SubjectRef};
    Payload::IssueCertificate {
        subject: SubjectRef::New {
            kind: SubjectKind::Individual,
            identifier: Hash32([seed; 32]),
        },
        key: PublicKey::of(&SigningKey::from_bytes(&[seed; 32])),
        name: Hash32([seed; 32]),
        roles: vec![],
        valid_from: None,
        valid_until: Point::Height(1_000_000),
    }
}

/// A commit's write batch reaches RocksDB in key order within every column
/// family (storage/ordered.rs; the tree's order is pinned in storage/smt.rs),
/// for a block whose transactions' ids, owners, records, certified subjects and
/// revoked certificates come in hash order.
#[test]
fn a_commits_batch_is_in_key_order_within_each_column_family() {
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path());
    let records: Vec<Hash32> = (0..8)
        .map(|i| register_digital(&app, "alice", format!("title {i}")))
        .collect();
    let certified: Vec<Hash32> = (1..=6)
        .map(
            |seed| match run(&app, "authority", &[], certify_someone(seed))[..] {
                [tamga_runtime::records::Event::CertificateIssued { certificate, .. }] => {
                    certificate
                }
                ref other => panic!("{other:?}"),
            },
        )
        .collect();
    for seed in 7..=12 {
        submit(&app, "authority", &[], certify_someone(seed));
    }
    for certificate in certified {
        let payload = Payload::RevokeCertificate {
            certificate,
            reason: tamga_runtime::pki::RevocationReason::FalseData,
            effective_height: None,
            document: None,
        };
        submit(&app, "authority", &[], payload);
    }
    for (i, record) in records.into_iter().enumerate() {
        let to = ["bob", "bank"][i % 2];
        let payload = Payload::Transfer {
            record,
            to: dev_subject(to),
            amount: None,
        };
        submit(&app, "alice", &[], payload);
    }
    let (executed, _) = app
        .build_block(now_ms(), PublicKey::of(&dev_key("validator")))
        .unwrap();
    assert_eq!(
        executed.tx_ids.len(),
        20,
        "one block: 8 moves, 6 issues, 6 revocations"
    );
    let commit = Commit {
        height: executed.block.header.height,
        round: 0,
        block_hash: executed.block.header.hash(),
        signatures: vec![],
    };
    let (batch, _) = app.storage.commit_batch(&executed, &commit).unwrap();
    let mut seen = KeysByFamily::default();
    batch.iterate_cf(&mut seen);
    assert!(
        seen.0.len() >= 8,
        "the block's families: {:?}",
        seen.0.keys()
    );
    for (family, keys) in &seen.0 {
        let sorted = keys.windows(2).all(|w| w[0] <= w[1]);
        assert!(sorted, "column family {family}: keys out of order");
    }
}

/// A write batch's keys, per column family id, in the order RocksDB applies them.
#[derive(Default)]
struct KeysByFamily(std::collections::BTreeMap<u32, Vec<Vec<u8>>>);

impl rocksdb::WriteBatchIteratorCf for KeysByFamily {
    fn put_cf(&mut self, family: u32, key: &[u8], _: &[u8]) {
        self.0.entry(family).or_default().push(key.to_vec());
    }
    fn delete_cf(&mut self, family: u32, key: &[u8]) {
        self.0.entry(family).or_default().push(key.to_vec());
    }
    fn merge_cf(&mut self, _: u32, _: &[u8], _: &[u8]) {
        panic!("commits do not merge");
    }
}
