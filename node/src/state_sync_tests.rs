//! A snapshot restored on a new node: the same tip, state, tree and indexes as
//! the node that replayed every block, and it follows the chain from there; a
//! snapshot that lies about one value is refused with nothing written.

use super::*;
use crate::app::tests::{open_app, produce_one, register_digital, run, submit};
use crate::app::App;
use crate::keyring::dev_key;
use crate::storage::{
    Anchored, CacheBudget, RestoreError, CF_IDX_CERTS, CF_IDX_OWNER, CF_IDX_REVOCATIONS,
};
use tamga_runtime::state::WriteSet;
use tamga_runtime::types::Payload;

/// The whole state of `app`, paged as `snapshot_chunk` pages it.
fn paged_state(storage: &Storage) -> WriteSet {
    let mut state = WriteSet::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = storage.state_page(after.as_deref()).unwrap();
        for (key, value) in page.pairs {
            state.insert(key, Some(value));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return state,
        }
    }
}

/// A chain with records moved and certificates issued and revoked.
fn busy_chain(app: &App) -> Vec<tamga_runtime::Hash32> {
    let records: Vec<_> = (0..4)
        .map(|i| register_digital(app, "alice", format!("title {i}")))
        .collect();
    let transfer = Payload::Transfer {
        record: records[1],
        to: crate::app::tests::dev_subject("bob"),
        amount: None,
    };
    run(app, "alice", &[], transfer);
    let issued = run(app, "authority", &[], crate::app::tests::certify_someone(3));
    let [tamga_runtime::records::Event::CertificateIssued { certificate, .. }] = issued[..] else {
        panic!("{issued:?}");
    };
    let revoke = Payload::RevokeCertificate {
        certificate,
        reason: tamga_runtime::pki::RevocationReason::FalseData,
        effective_height: None,
        document: None,
    };
    run(app, "authority", &[], revoke);
    records
}

fn restore_into(storage: &Storage, source: &App, state: &WriteSet) -> Result<Tip, RestoreError> {
    let height = source.tip().height;
    let anchor = crate::certify::anchor(&source.storage, height).unwrap();
    let block = source.storage.block(height).unwrap().unwrap();
    storage.restore_begin()?;
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (state.iter())
        .map(|(key, value)| (key.clone(), value.clone().unwrap()))
        .collect();
    for page in pairs.chunks(7) {
        storage.restore_page(page)?;
    }
    let leaves = (pairs.into_iter())
        .map(|(key, value)| (tamga_verify::tree::key_hash(&key), value))
        .collect();
    let anchored = Anchored {
        genesis_hash: crate::node::genesis_hash(&crate::cli::dev_genesis().unwrap()),
        block: &block,
        commit: &anchor.commit,
        set_changes: &anchor.set_changes,
    };
    storage.restore_finish(&anchored, leaves)
}

#[test]
fn a_restored_snapshot_is_the_replayed_chain_and_follows_it() {
    let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
    let source = open_app(dirs[0].path());
    let records = busy_chain(&source);
    let height = source.tip().height;
    let genesis = crate::cli::dev_genesis().unwrap();
    let anchor = crate::certify::anchor(&source.storage, height).unwrap();
    tamga_verify::verify_anchor(&anchor, &genesis).unwrap();

    let storage = Storage::open(dirs[1].path(), &CacheBudget::DEFAULT).unwrap();
    let tip = restore_into(&storage, &source, &paged_state(&source.storage)).unwrap();
    assert_eq!(tip, source.tip());
    for cf in [CF_IDX_OWNER, CF_IDX_CERTS, CF_IDX_REVOCATIONS] {
        assert_eq!(storage.column(cf), source.storage.column(cf), "{cf}");
    }
    assert!(matches!(
        storage.restore_begin(),
        Err(RestoreError::NotEmpty)
    ));
    assert_eq!(storage.history_from().unwrap(), height);
    let tip = storage.tip().unwrap().unwrap();
    let joined = crate::app::tests::app_on(storage, tip, dirs[1].path(), 100);
    assert!(matches!(
        crate::certify::record(&joined.storage, &records[0], height),
        Err(crate::certify::CertifyError::NoProvenance(..))
    ));
    assert!(matches!(
        crate::certify::anchor(&joined.storage, height - 1),
        Err(crate::certify::CertifyError::BeforeHistory { .. })
    ));

    // The next block, built on the replayed chain, executes on the restored
    // one to the same root; its anchor verifies from the restored node too.
    let transfer = Payload::Transfer {
        record: records[2],
        to: crate::app::tests::dev_subject("bank"),
        amount: None,
    };
    submit(&source, "alice", &[], transfer);
    let next = produce_one(&source, &dev_key("validator")).unwrap();
    let block = source.storage.block(next.height).unwrap().unwrap();
    let commit = source.storage.commit(next.height).unwrap().unwrap();
    let executed = joined.execute_block(block).unwrap();
    assert_eq!(joined.commit_block(executed, commit, vec![]).unwrap(), next);
    let anchor = crate::certify::anchor(&joined.storage, next.height).unwrap();
    tamga_verify::verify_anchor(&anchor, &genesis).unwrap();
}

/// A state with one value changed, or one left out, is refused and what was
/// written of it removed; a directory left restoring starts no chain; a good
/// restore after a refused one holds nothing of the refused one.
#[test]
fn a_snapshot_with_one_value_changed_is_refused_and_nothing_kept() {
    let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
    let source = open_app(dirs[0].path());
    let records = busy_chain(&source);
    let good = paged_state(&source.storage);
    let mut changed = good.clone();
    let key = tamga_runtime::state::keys::record(&records[0]);
    let mut record = source.storage.record(&records[0]).unwrap().unwrap();
    record.owner = crate::app::tests::dev_subject("bank");
    changed.insert(key, Some(tamga_runtime::types::encoding::encode(&record)));
    let storage = Storage::open(dirs[1].path(), &CacheBudget::DEFAULT).unwrap();
    let mut short = good.clone();
    short.pop_last();
    for lie in [&changed, &short] {
        let refused = restore_into(&storage, &source, lie);
        assert!(
            matches!(refused, Err(RestoreError::RootMismatch { .. })),
            "{refused:?}"
        );
        assert_eq!(storage.genesis_hash().unwrap(), None);
        assert_eq!(storage.tip().unwrap(), None);
        for cf in [CF_IDX_OWNER, CF_IDX_CERTS, crate::storage::CF_STATE] {
            assert!(storage.column(cf).is_empty(), "{cf} kept");
        }
    }

    // A record that does not decode is refused with its page.
    storage.restore_begin().unwrap();
    let garbage = vec![(
        tamga_runtime::state::keys::record(&records[1]),
        vec![0xff; 9],
    )];
    let refused = storage.restore_page(&garbage);
    assert!(
        matches!(refused, Err(RestoreError::Inconsistent(_))),
        "{refused:?}"
    );
    let pairs: Vec<_> = changed
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap()))
        .collect();
    storage.restore_page(&pairs).unwrap();
    let genesis = crate::cli::dev_genesis().unwrap();
    let started = storage.init_genesis(
        crate::node::genesis_hash(&genesis),
        &genesis.initial_writes(),
        genesis.genesis_time_ms,
    );
    assert!(
        started.is_err(),
        "a chain started on a half-restored directory"
    );

    assert_eq!(
        restore_into(&storage, &source, &good).unwrap(),
        source.tip()
    );
    for cf in [CF_IDX_OWNER, CF_IDX_CERTS, crate::storage::CF_STATE] {
        assert_eq!(storage.column(cf), source.storage.column(cf), "{cf}");
    }
}

/// A serving node cannot hand a joiner keys out of order or twice, loop it
/// with empty pages or pages that do not resume, or pass its bound.
#[test]
fn a_joiner_refuses_pages_that_break_the_protocol() {
    let pair = |k: u8| (vec![k], vec![k; 10]);
    let mut paging = Paging::default();
    assert!(paging.take(&[pair(1), pair(2)], Some(vec![2])).unwrap());
    let refused = [
        (vec![pair(2)], Some(vec![2])),
        (vec![pair(4), pair(3)], Some(vec![3])),
        (vec![], Some(vec![2])),
        (vec![pair(5)], Some(vec![9])),
    ];
    for (pairs, next) in refused {
        let mut paging = Paging::default();
        paging.take(&[pair(1), pair(2)], Some(vec![2])).unwrap();
        let result = paging.take(&pairs, next.clone());
        assert!(
            matches!(result, Err(JoinError::Protocol(_))),
            "{pairs:?} {next:?}: {result:?}"
        );
    }
    assert!(!paging.take(&[pair(3)], None).unwrap());
    assert_eq!((paging.pairs, paging.bytes), (3, 33));

    let mut empty = Paging::default();
    assert!(matches!(empty.take(&[], None), Err(JoinError::Protocol(_))));

    let mut small = Paging {
        limit: 2 * (11 + PAIR_OVERHEAD_BYTES),
        ..Paging::default()
    };
    small.take(&[pair(1), pair(2)], Some(vec![2])).unwrap();
    assert!(matches!(
        small.take(&[pair(3)], None),
        Err(JoinError::TooLarge)
    ));
}

/// An anchor whose block or chain was altered does not verify from genesis.
#[test]
fn an_altered_anchor_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let source = open_app(dir.path());
    busy_chain(&source);
    let genesis = crate::cli::dev_genesis().unwrap();
    let anchor = crate::certify::anchor(&source.storage, source.tip().height).unwrap();
    let mut root = anchor.clone();
    root.header.state_root = tamga_runtime::Hash32([9; 32]);
    assert!(tamga_verify::verify_anchor(&root, &genesis).is_err());
    let mut unsigned = anchor.clone();
    unsigned.commit.signatures.clear();
    assert!(tamga_verify::verify_anchor(&unsigned, &genesis).is_err());
    let mut other_chain = genesis.clone();
    other_chain.genesis_time_ms += 1;
    assert!(tamga_verify::verify_anchor(&anchor, &other_chain).is_err());
    tamga_verify::verify_anchor(&anchor, &genesis).unwrap();
}
