//! The transaction envelope and limits: replay, chain id, signatures, encoding,
//! text and encumbrance bounds.

use super::*;

#[test]
fn text_limits_are_enforced() {
    let mut l = Ledger::new();
    let long = Payload::Register {
        category: Cat::Digital,
        description: "x".repeat(crate::limits::TEXT_BYTES_MAX + 1),
        owner: sid(ALICE),
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
    // Each pledge after the first needs the pledgee's consent too.
    for _ in 0..crate::limits::ENCUMBRANCES_PER_RECORD_MAX {
        l.run(ALICE, pledge(id, BANK), &[BANK]).unwrap();
    }
    assert_eq!(
        reason(l.run(ALICE, pledge(id, BANK), &[BANK])),
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

/// A transaction is decoded within a claim sized to it: a prefix claiming 60 MiB
/// in five bytes is refused before anything is reserved, and the largest
/// transaction the byte limit allows still decodes.
#[test]
fn a_transaction_cannot_claim_more_memory_than_its_limit() {
    let mut claim = vec![0xfc];
    claim.extend_from_slice(&(60u32 << 20).to_le_bytes());
    let refused = crate::execute::decode_tx(&claim).unwrap_err();
    assert_eq!(refused.reason(), "tx.malformed");
    assert!(refused.to_string().contains("LimitExceeded"), "{refused}");
    let mut l = Ledger::new();
    let deploy = Payload::Deploy {
        code: crate::types::Bytes(vec![0x61; crate::limits::TX_BYTES_MAX - 4096]),
        terms: "t".repeat(crate::limits::TEXT_BYTES_MAX),
        arbitration: crate::contracts::ArbitrationClause {
            arbiters: vec![sid(BOB); 8],
            quorum: 1,
            deadline_blocks: 10,
            appeal: None,
        },
    };
    let tx = l.signed(ALICE, deploy, &[BOB, CAROL]);
    let bytes = encoding::encode(&tx);
    assert!(bytes.len() <= crate::limits::TX_BYTES_MAX);
    assert_eq!(crate::execute::decode_tx(&bytes), Ok(tx));
}
