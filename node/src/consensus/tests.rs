//! The Malachite-facing pieces without a network: signatures bind chain, height,
//! round and value; a commit certificate verifies against the runtime's
//! definition; the codec round-trips; a received part is dropped unless its
//! round's proposer signed it, and its block is refused for a wrong state root, a
//! time ahead of the clock, or a signature added or stripped in transit; a synced
//! certificate for round Nil is refused; each height's proposers are an order of
//! the validators drawn by voting power; the intake drops replays and bounds what
//! it buffers; a node's own value is never forgotten.

use super::codec::BorshCodec;
use super::context::{Address, BlockId, Height, ProposalPart, TamgaContext, ValidatorSet, Vote};
use super::parts::{self, PartError};
use super::signing::{KeySigner, KeyVerifier};
use crate::app::tests::{admit_registration, open_app};
use crate::keyring::dev_key;
use arc_malachitebft_app_channel::app::types::codec::Codec;
use arc_malachitebft_core_types::{NilOrVal, Round, ValidatorProof, VoteType};
use arc_malachitebft_signing::{Signer, Verifier};
use ed25519_dalek::Verifier as _;
use tamga_runtime::types::{encoding, Block, Commit};
use tamga_runtime::validators::Validator;
use tamga_runtime::{Hash32, PublicKey};

fn precommit(value: [u8; 32]) -> Vote {
    Vote {
        kind: VoteType::Precommit,
        height: Height(7),
        round: Round::new(2),
        value: NilOrVal::Val(BlockId(value)),
        validator: Address(PublicKey::of(&dev_key("validator")).0),
        extension: None,
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn votes_verify_only_for_their_chain_and_content() {
    let key = dev_key("validator");
    let signer = KeySigner::new(key.clone(), "tamga-dev".into(), None);
    let signed = block_on(signer.sign_vote(precommit([1; 32]))).unwrap();
    let verify = |chain: &str, vote: &Vote| {
        let verifier = KeyVerifier {
            chain_id: chain.into(),
        };
        block_on(verifier.verify_signed_vote(vote, &signed.signature, &key.verifying_key()))
            .unwrap()
            .is_valid()
    };
    assert!(verify("tamga-dev", &precommit([1; 32])));
    assert!(
        !verify("other-chain", &precommit([1; 32])),
        "no replay across chains"
    );
    assert!(
        !verify("tamga-dev", &precommit([2; 32])),
        "bound to the value"
    );
    let mut nil = precommit([1; 32]);
    nil.value = NilOrVal::Nil;
    assert!(!verify("tamga-dev", &nil), "bound to nil versus a value");
}

#[test]
fn a_precommit_signature_is_a_commit_signature_under_the_runtime_definition() {
    let key = dev_key("validator");
    let signer = KeySigner::new(key.clone(), "tamga-dev".into(), None);
    let signed = block_on(signer.sign_vote(precommit([3; 32]))).unwrap();
    let bytes = Commit::sign_bytes("tamga-dev", 7, 2, &Hash32([3; 32]));
    let signature = ed25519_dalek::Signature::from_bytes(&signed.signature.0);
    assert!(key.verifying_key().verify(&bytes.0, &signature).is_ok());
}

#[test]
fn the_codec_round_trips_parts_and_validator_proofs() {
    let key = dev_key("validator");
    let signer = KeySigner::new(key.clone(), "tamga-dev".into(), None);
    let own = key.verifying_key().to_bytes().to_vec();
    let proof = block_on(signer.sign_validator_proof(own, vec![2; 38])).unwrap();
    let bytes = Codec::<ValidatorProof<TamgaContext>>::encode(&BorshCodec, &proof).unwrap();
    let back: ValidatorProof<TamgaContext> = BorshCodec.decode(bytes).unwrap();
    assert_eq!(back, proof);
    let verifier = KeyVerifier {
        chain_id: "tamga-dev".into(),
    };
    assert!(block_on(verifier.verify_validator_proof(&back))
        .unwrap()
        .is_valid());
    let part = ProposalPart {
        height: Height(3),
        round: Round::ZERO,
        pol_round: Round::Nil,
        proposer: Address([9; 32]),
        block: vec![1, 2, 3],
        signature: proof.signature,
    };
    let bytes = Codec::<ProposalPart>::encode(&BorshCodec, &part).unwrap();
    assert_eq!(
        Codec::<ProposalPart>::decode(&BorshCodec, bytes).unwrap(),
        part
    );
    let garbage = bytes::Bytes::from_static(&[0xff; 7]);
    assert!(Codec::<ProposalPart>::decode(&BorshCodec, garbage).is_err());
}

/// The dev chain's one-validator set.
fn dev_set() -> ValidatorSet {
    let validator = Validator {
        public_key: PublicKey::of(&dev_key("validator")),
        power: 1,
    };
    ValidatorSet::from_ledger(&[validator]).unwrap()
}

/// A proposal part built on one node for the dev chain, its header changed by
/// `tamper` (then re-signed, as a faulty proposer would), and the dev set.
fn proposal_with(
    tamper: impl FnOnce(&mut tamga_runtime::types::Block),
) -> (ProposalPart, ValidatorSet) {
    let dir = tempfile::tempdir().unwrap();
    let proposer = open_app(dir.path());
    admit_registration(&proposer, 0);
    let key = dev_key("validator");
    let fuel_max = tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX;
    let (mut executed, dropped) = parts::build(
        &proposer,
        PublicKey::of(&key),
        fuel_max,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    tamper(&mut executed.block);
    let signer = KeySigner::new(key.clone(), proposer.chain_id.as_str().into(), None);
    let at = (Height(1), Round::ZERO, Round::Nil);
    let (candidate, _) = parts::sign(executed, dropped, at, &signer).unwrap();
    (candidate.part.unwrap(), dev_set())
}

fn proposal() -> (ProposalPart, ValidatorSet) {
    proposal_with(|_| {})
}

/// What a validator does with a part: who sent it, then execute its block.
fn check(part: ProposalPart, set: &ValidatorSet) -> Result<(), PartError> {
    let dir = tempfile::tempdir().unwrap();
    let voter = open_app(dir.path());
    let id = parts::check_sender(&voter.chain_id, set, &part)?;
    let block = parts::check_body(&part)?;
    parts::keep_then_check_header(&voter, &part, &block, id, true)?;
    parts::execute(&voter, part, block, id).map(|_| ())
}

#[test]
fn a_valid_proposal_executes_to_the_same_root_on_another_node() {
    let (part, set) = proposal();
    check(part, &set).unwrap();
}

#[test]
fn proposals_are_refused_for_signature_proposer_root_and_time() {
    let (part, set) = proposal();
    let mut forged = part.clone();
    forged.signature.0[0] ^= 1;
    assert!(matches!(
        check(forged, &set),
        Err(PartError::BadSignature(_))
    ));
    let mut stranger = part.clone();
    stranger.proposer = Address([7; 32]);
    assert!(matches!(
        check(stranger, &set),
        Err(PartError::NotProposer(_))
    ));
    let (bad_root, set) = proposal_with(|block| block.header.state_root.0[0] ^= 0xff);
    let refused = check(bad_root, &set).unwrap_err().to_string();
    assert!(refused.contains("state root"), "{refused}");
}

/// The certified block id binds every signature a block carries: a relay that
/// adds a (perfectly valid) co-signature to a transaction, or strips one, leaves
/// the header and the proposer's signature untouched — and the part is dropped
/// as not what its proposer signed (no verdict on the proposer's real block).
#[test]
fn a_cosignature_added_or_stripped_in_transit_is_refused() {
    let (part, set) = proposal();
    let mut block: Block = encoding::decode(&part.block).unwrap();
    assert!(!block.txs.is_empty(), "the block carries a transaction");
    block.txs[0] = block.txs[0].clone().cosign(&dev_key("bob"));
    let mut relayed = part.clone();
    relayed.block = encoding::encode(&block);
    assert_eq!(
        parts::claimed_id(&relayed).unwrap(),
        parts::claimed_id(&part).unwrap(),
        "same header, same id, same proposer signature"
    );
    let refused = check(relayed, &set).unwrap_err();
    assert!(matches!(refused, PartError::Malformed(_)), "{refused}");
    assert!(refused.to_string().contains("txs_hash"), "{refused}");
    let (cosigned, set) = proposal_with(|block| {
        block.txs[0] = block.txs[0].clone().cosign(&dev_key("bob"));
        block.header.txs_hash = tamga_runtime::types::txs_hash(&block.txs);
    });
    let mut stripped_block: Block = encoding::decode(&cosigned.block).unwrap();
    stripped_block.txs[0].cosignatures.clear();
    let mut stripped = cosigned.clone();
    stripped.block = encoding::encode(&stripped_block);
    let refused = check(stripped, &set).unwrap_err().to_string();
    assert!(refused.contains("txs_hash"), "{refused}");
}

#[test]
fn a_block_time_ahead_of_the_clock_is_refused_but_kept() {
    let dir = tempfile::tempdir().unwrap();
    let proposer = open_app(dir.path());
    let key = dev_key("validator");
    let ahead_ms = crate::clock::now_ms() + parts::BLOCK_TIME_AHEAD_MAX_MS + 60_000;
    let (built, dropped) = proposer.build_block(ahead_ms, PublicKey::of(&key)).unwrap();
    let signer = KeySigner::new(key.clone(), proposer.chain_id.as_str().into(), None);
    let at = (Height(1), Round::ZERO, Round::Nil);
    let (candidate, _) = parts::sign(built, dropped, at, &signer).unwrap();
    let part = candidate.part.unwrap();
    let refused = check(part.clone(), &dev_set()).unwrap_err().to_string();
    assert!(
        refused.contains("ahead of this validator's clock"),
        "{refused}"
    );
    // Refused, yet kept: the others' clocks may accept it, and if it is decided
    // this node commits it from its proposal store instead of restarting.
    let dir = tempfile::tempdir().unwrap();
    let voter = open_app(dir.path());
    let id = parts::check_sender(&voter.chain_id, &dev_set(), &part).unwrap();
    let block = parts::check_body(&part).unwrap();
    let verdict = parts::keep_then_check_header(&voter, &part, &block, id, true);
    assert!(matches!(verdict, Err(PartError::Refused { .. })));
    let kept = voter
        .storage
        .proposal(1, &tamga_runtime::Hash32(id.0))
        .unwrap();
    let kept = parts::decode_block(&kept.expect("the refused block is kept")).unwrap();
    voter
        .execute_block(kept)
        .expect("a decided block executes without the clock check");
}

fn set_of(powers: &[u64]) -> ValidatorSet {
    let validators: Vec<Validator> = powers
        .iter()
        .enumerate()
        .map(|(i, power)| Validator {
            public_key: PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[i as u8 + 1; 32])),
            power: *power,
        })
        .collect();
    ValidatorSet::from_ledger(&validators).unwrap()
}

/// Round 0's proposer is drawn by voting power: over many heights each
/// validator proposes in proportion to its power, and every node computes the
/// same one.
#[test]
fn proposers_are_drawn_in_proportion_to_voting_power() {
    use arc_malachitebft_core_types::{Context as _, Validator as _};
    let ctx = TamgaContext::new("tamga-dev");
    let set = set_of(&[6, 3, 1]);
    let mut counts = std::collections::BTreeMap::new();
    let draws = 30_000u64;
    for height in 1..=draws {
        let proposer = ctx.select_proposer(&set, Height(height), Round::ZERO);
        *counts.entry(proposer.voting_power()).or_insert(0u64) += 1;
    }
    for (power, count) in &counts {
        let share = *count as f64 / draws as f64;
        let expected = *power as f64 / 10.0;
        assert!(
            (share - expected).abs() < 0.02,
            "power {power}: share {share}"
        );
    }
    let again = ctx.select_proposer(&set, Height(42), Round::new(3)).address;
    assert_eq!(
        ctx.select_proposer(&set, Height(42), Round::new(3)).address,
        again
    );
}

/// Any n consecutive rounds of a height have n different proposers, so a
/// validator that is down costs at most one round in n: with independent draws
/// per round, height 7 of four equal validators drew one validator for rounds
/// 0 to 3, and a cluster with that one down waited out four rounds (34 s).
#[test]
fn each_validator_proposes_once_in_any_n_rounds_of_a_height() {
    use arc_malachitebft_core_types::Context as _;
    let ctx = TamgaContext::new("tamga-dev");
    for powers in [&[1, 1, 1, 1][..], &[6, 3, 1], &[5, 1, 1, 1, 1, 1, 1], &[7]] {
        let set = set_of(powers);
        let n = powers.len() as u32;
        for height in 1..=300u64 {
            let proposer = |round: u32| {
                let validator = ctx.select_proposer(&set, Height(height), Round::new(round));
                validator.address
            };
            for start in [0, 1, n - 1, 5 * n + 2] {
                let window: std::collections::BTreeSet<_> =
                    (start..start + n).map(proposer).collect();
                assert_eq!(
                    window.len(),
                    powers.len(),
                    "powers {powers:?}, height {height}, rounds {start}..{}",
                    start + n
                );
            }
        }
    }
}

/// The schedule is part of the protocol: every node, of every build, must
/// compute the same one. Height 7 of four equal validators, pinned.
#[test]
fn the_proposer_order_of_a_height_is_pinned() {
    use arc_malachitebft_core_types::{Context as _, ValidatorSet as _};
    let ctx = TamgaContext::new("tamga-dev");
    let set = set_of(&[1, 1, 1, 1]);
    let index_of = |round: u32| {
        let proposer = ctx.select_proposer(&set, Height(7), Round::new(round));
        (0..4)
            .find(|&i| set.get_by_index(i).map(|v| v.address) == Some(proposer.address))
            .expect("the proposer is in the set")
    };
    let order: Vec<usize> = (0..8).map(index_of).collect();
    assert_eq!(order, [1, 0, 3, 2, 1, 0, 3, 2]);
}

/// A peer serving value sync can send a certificate naming round Nil, and
/// Malachite asks for that round's proposer before it checks the certificate:
/// the codec refuses such a response, and the proposer lookup answers rather
/// than panics (one message would otherwise stop the node).
#[test]
fn a_synced_certificate_for_round_nil_is_refused_and_never_panics_the_node() {
    use arc_malachitebft_core_types::{Context as _, ExtendedCommitCertificate};
    use arc_malachitebft_sync::{RawDecidedValue, Response, ValueResponse};
    let response = |round: Round| {
        let certificate = ExtendedCommitCertificate {
            height: Height(5),
            round,
            value_id: BlockId([3; 32]),
            commit_signatures: vec![],
        };
        let value = RawDecidedValue::new(bytes::Bytes::from_static(&[1, 2]), certificate);
        Response::ValueResponse(ValueResponse::new(Height(5), vec![value]))
    };
    let encode = |r: &Response<TamgaContext>| Codec::encode(&BorshCodec, r).unwrap();
    let decode = |b| Codec::<Response<TamgaContext>>::decode(&BorshCodec, b);
    let good = decode(encode(&response(Round::new(1)))).expect("round 1 decodes");
    assert_eq!(good, response(Round::new(1)));
    let error = decode(encode(&response(Round::Nil))).unwrap_err();
    assert!(error.to_string().contains("round Nil"), "{error}");
    let ctx = TamgaContext::new("tamga-dev");
    let set = set_of(&[1, 1, 1, 1]);
    let nil = ctx.select_proposer(&set, Height(5), Round::Nil).address;
    assert_eq!(
        nil,
        ctx.select_proposer(&set, Height(5), Round::ZERO).address
    );
}

fn part_at(height: u64, round: u32, bytes: usize) -> ProposalPart {
    ProposalPart {
        height: Height(height),
        round: Round::new(round),
        pol_round: Round::Nil,
        proposer: Address([1; 32]),
        block: vec![0; bytes],
        signature: super::signing::Sig([0; 64]),
    }
}

/// The intake's cheap checks come before any decoding: stale and far-future
/// heights, rounds far ahead, and replays of a (height, round) already served
/// are dropped; parts for later heights are kept within a byte budget.
#[test]
fn the_intake_drops_replays_and_bounds_what_it_buffers() {
    use super::values::{Dropped, Intake, HEIGHTS_AHEAD_MAX, PENDING_BYTES_MAX, ROUNDS_AHEAD_MAX};
    let mut intake = Intake::default();
    intake.enter_round(Height(10), Round::new(2));
    let next = Height(10);
    assert_eq!(intake.screen(next, &part_at(9, 0, 1)), Err(Dropped::Stale));
    let far = 10 + HEIGHTS_AHEAD_MAX + 1;
    assert_eq!(
        intake.screen(next, &part_at(far, 0, 1)),
        Err(Dropped::TooFarAhead)
    );
    let ahead = 2 + ROUNDS_AHEAD_MAX;
    assert!(intake.screen(next, &part_at(10, ahead, 1)).is_ok());
    assert!(matches!(
        intake.screen(next, &part_at(10, ahead + 1, 1)),
        Err(Dropped::BadRound(_))
    ));
    // A replay carries the same signature; a proposer gets two parts per round.
    intake.mark_seen(&part_at(10, 2, 1));
    assert_eq!(
        intake.screen(next, &part_at(10, 2, 1)),
        Err(Dropped::Replay)
    );
    let mut other = part_at(10, 2, 1);
    other.signature = super::signing::Sig([1; 64]);
    assert!(intake.screen(next, &other).is_ok());
    intake.mark_seen(&other);
    let mut third = part_at(10, 2, 1);
    third.signature = super::signing::Sig([2; 64]);
    assert_eq!(intake.screen(next, &third), Err(Dropped::RoundFull));
    // Later heights: one part per (height, round), within the byte budget; a
    // nearer height's part pushes out the farthest one, never the reverse.
    let big = PENDING_BYTES_MAX / 3;
    for round in 0..3 {
        intake.buffer(part_at(12, round, big)).unwrap();
    }
    assert_eq!(intake.buffer(part_at(12, 0, 1)), Err(Dropped::RoundFull));
    assert_eq!(intake.buffer(part_at(13, 0, big)), Err(Dropped::BufferFull));
    intake.buffer(part_at(11, 0, big)).unwrap();
    assert_eq!(intake.take_pending(Height(11)).len(), 1);
    assert_eq!(
        intake.take_pending(Height(12)).len(),
        2,
        "the farthest gave way"
    );
}

/// A mark that refuses is a refusal (the node then follows the chain); a mark
/// that cannot be written is a failure of this node, which must stop it, never
/// be taken for a refusal and looped on.
#[test]
fn a_mark_that_cannot_be_saved_is_a_failure_not_a_refusal() {
    use super::mark::{SigningState, Step};
    let dir = tempfile::tempdir().unwrap();
    let lost = SigningState::open(&dir.path().join("gone/signing_state.json")).unwrap();
    let signer = KeySigner::new(dev_key("validator"), "c".into(), Some(lost.into()));
    let failed = signer
        .sign_at((3, 0, Step::Prevote), &Hash32([1; 32]))
        .unwrap_err();
    assert!(!KeySigner::is_refusal(&failed), "{failed}");
    let kept = SigningState::open(&dir.path().join("signing_state.json")).unwrap();
    let signer = KeySigner::new(dev_key("validator"), "c".into(), Some(kept.into()));
    signer
        .sign_at((3, 0, Step::Prevote), &Hash32([1; 32]))
        .unwrap();
    let below = signer
        .sign_at((2, 0, Step::Prevote), &Hash32([2; 32]))
        .unwrap_err();
    assert!(KeySigner::is_refusal(&below), "{below}");
}

/// A part's header is decoded before its sender is known, within a claim sized
/// to a header: a chain id claiming 60 MiB in a few bytes is refused before
/// anything is reserved.
#[test]
fn a_parts_header_cannot_claim_more_memory_than_a_header() {
    let (part, _set) = proposal();
    let mut hostile = part.clone();
    hostile.block = vec![0xfc];
    hostile
        .block
        .extend_from_slice(&(60u32 << 20).to_le_bytes());
    let refused = parts::claimed_id(&hostile).unwrap_err();
    assert!(matches!(refused, PartError::Malformed(_)), "{refused}");
    assert!(refused.to_string().contains("LimitExceeded"), "{refused}");
    assert!(
        parts::claimed_id(&part).is_ok(),
        "a real header still decodes"
    );
}

/// A block read one transaction at a time is the block the canonical decode
/// reads, for no transaction, one, and several; both refuse a trailing or a
/// missing byte.
#[test]
fn a_block_decodes_one_transaction_at_a_time_as_a_whole() {
    let (part, _set) = proposal();
    let block = parts::check_body(&part).unwrap();
    assert_eq!(block.txs.len(), 1, "the proposal carries one transaction");
    let mut empty = block.clone();
    empty.txs.clear();
    let mut several = block.clone();
    several.txs = vec![block.txs[0].clone(); 7];
    // Past 250 the count's varint takes three bytes.
    let mut many = block.clone();
    many.txs = vec![block.txs[0].clone(); 300];
    for block in [empty, block, several, many] {
        let bytes = encoding::encode(&block);
        assert_eq!(parts::decode_block(&bytes).unwrap(), block);
        assert_eq!(encoding::decode::<Block>(&bytes).unwrap(), block);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(parts::decode_block(&trailing).is_err());
        assert!(encoding::decode::<Block>(&trailing).is_err());
        let short = &bytes[..bytes.len() - 1];
        assert!(parts::decode_block(short).is_err());
        assert!(encoding::decode::<Block>(short).is_err());
    }
}

/// Behind a genuinely signed header, a body's length prefixes cannot make the
/// node reserve more than one transaction's claim: a transaction whose chain id
/// claims 6 MiB in five bytes is refused at the 5 MiB claim (the whole block's
/// decode, within 64 MiB, would zero-fill the 6 MiB first, then find the bytes
/// missing), and a transaction count beyond the bytes left is refused before
/// anything is reserved.
#[test]
fn a_block_body_cannot_claim_more_memory_than_a_transaction() {
    let (part, _set) = proposal();
    let header = encoding::encode(&parts::check_body(&part).unwrap().header);
    let mut hostile = header.clone();
    hostile.push(1); // one transaction
    hostile.push(0xfc);
    hostile.extend_from_slice(&(6u32 << 20).to_le_bytes());
    let refused = parts::decode_block(&hostile).unwrap_err();
    assert!(refused.to_string().contains("LimitExceeded"), "{refused}");
    let whole = encoding::decode::<Block>(&hostile).unwrap_err();
    assert!(!whole.to_string().contains("LimitExceeded"), "{whole}");

    let mut counted = header;
    counted.push(0xfc);
    counted.extend_from_slice(&1_000_000u32.to_le_bytes());
    counted.extend_from_slice(&[0; 100]);
    let refused = parts::decode_block(&counted).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("transaction count 1000000 exceeds its 100 remaining bytes"),
        "{refused}"
    );
}
