//! The Malachite-facing pieces without a network: signatures bind chain, height,
//! round and value; a commit certificate verifies against the runtime's
//! definition; the codec round-trips; a received block is refused for a bad
//! signature, an unknown proposer, a wrong state root or a time ahead of the clock.

use super::codec::BorshCodec;
use super::context::{Address, BlockId, Height, ProposalPart, TamgaContext, ValidatorSet, Vote};
use super::parts::{self, PartError};
use super::signing::{KeySigner, KeyVerifier};
use super::Fault;
use crate::app::tests::{admit_registration, open_app};
use crate::keyring::dev_key;
use arc_malachitebft_app_channel::app::types::codec::Codec;
use arc_malachitebft_core_types::{NilOrVal, Round, ValidatorProof, VoteType};
use arc_malachitebft_signing::{Signer, Verifier};
use ed25519_dalek::Verifier as _;
use tamga_runtime::types::Commit;
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
    let signer = KeySigner::new(key.clone(), "tamga-dev".into());
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
    let signer = KeySigner::new(key.clone(), "tamga-dev".into());
    let signed = block_on(signer.sign_vote(precommit([3; 32]))).unwrap();
    let bytes = Commit::sign_bytes("tamga-dev", 7, 2, &Hash32([3; 32]));
    let signature = ed25519_dalek::Signature::from_bytes(&signed.signature.0);
    assert!(key.verifying_key().verify(&bytes.0, &signature).is_ok());
}

#[test]
fn the_codec_round_trips_parts_and_validator_proofs() {
    let key = dev_key("validator");
    let signer = KeySigner::new(key.clone(), "tamga-dev".into());
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

/// A proposal part built on one node and the validator set of the dev chain.
fn proposal(fault: Fault) -> (ProposalPart, ValidatorSet) {
    let dir = tempfile::tempdir().unwrap();
    let proposer = open_app(dir.path());
    admit_registration(&proposer, 0);
    let key = dev_key("validator");
    let built = parts::build(&proposer, PublicKey::of(&key), fault).unwrap();
    let signer = KeySigner::new(key.clone(), proposer.chain_id.as_str().into());
    let (candidate, _) = parts::sign(built, &proposer.chain_id, Height(1), Round::ZERO, &signer);
    (candidate.part.unwrap(), dev_set())
}

fn check(part: ProposalPart, set: &ValidatorSet) -> Result<(), PartError> {
    let dir = tempfile::tempdir().unwrap();
    let voter = open_app(dir.path());
    parts::check(&voter, set, part).map(|_| ())
}

#[test]
fn a_valid_proposal_executes_to_the_same_root_on_another_node() {
    let (part, set) = proposal(Fault::None);
    check(part, &set).unwrap();
}

#[test]
fn proposals_are_refused_for_signature_proposer_root_and_time() {
    let (part, set) = proposal(Fault::None);
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
        Err(PartError::UnknownProposer(_))
    ));
    let (bad_root, set) = proposal(Fault::WrongStateRoot);
    let refused = check(bad_root, &set).unwrap_err().to_string();
    assert!(refused.contains("state root"), "{refused}");
}

#[test]
fn a_block_time_ahead_of_the_clock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let proposer = open_app(dir.path());
    let key = dev_key("validator");
    let ahead_ms = crate::clock::now_ms() + parts::BLOCK_TIME_AHEAD_MAX_MS + 60_000;
    let built = proposer.build_block(ahead_ms, PublicKey::of(&key)).unwrap();
    let signer = KeySigner::new(key.clone(), proposer.chain_id.as_str().into());
    let (candidate, _) = parts::sign(built, &proposer.chain_id, Height(1), Round::ZERO, &signer);
    let refused = check(candidate.part.unwrap(), &dev_set())
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("ahead of this validator's clock"),
        "{refused}"
    );
}
