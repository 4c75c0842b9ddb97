//! A header and its commit certificate, checked against a validator set: the
//! commit is for this header's height and hash, each signature is by a distinct
//! member of the set and verifies strictly (the same ed25519 check every node
//! applies), and the signers hold more than 2/3 of the set's power.

use crate::error::{Place, VerifyError};
use tamga_runtime::types::{verify_signature, BlockHeader, Commit};
use tamga_runtime::validators::Validator;
use tamga_runtime::PublicKey;

/// Who signed a commit, and with how much of the set's power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signers {
    pub validators: Vec<(PublicKey, u64)>,
    pub signed_power: u64,
    pub total_power: u64,
}

pub fn check_commit(
    chain_id: &str,
    header: &BlockHeader,
    commit: &Commit,
    set: &[Validator],
    place: Place,
) -> Result<Signers, VerifyError> {
    if header.chain_id != chain_id {
        return Err(VerifyError::WrongChain {
            place,
            got: header.chain_id.clone(),
            expected: chain_id.to_owned(),
        });
    }
    if commit.height != header.height {
        let commit_height = commit.height;
        return Err(VerifyError::CommitHeight {
            place,
            commit_height,
        });
    }
    let header_hash = header.hash();
    if commit.block_hash != header_hash {
        return Err(VerifyError::CommitBlock {
            place,
            signed: commit.block_hash,
            header: header_hash,
        });
    }
    let signed = Commit::sign_bytes(chain_id, commit.height, commit.round, &commit.block_hash);
    let mut validators: Vec<(PublicKey, u64)> = Vec::with_capacity(commit.signatures.len());
    for sig in &commit.signatures {
        let validator = sig.validator;
        let Some(member) = set.iter().find(|v| v.public_key == validator) else {
            return Err(VerifyError::UnknownSigner { place, validator });
        };
        if validators.iter().any(|(key, _)| *key == validator) {
            return Err(VerifyError::DuplicateSigner { place, validator });
        }
        if !verify_signature(&validator, &signed, &sig.signature) {
            return Err(VerifyError::BadSignature { place, validator });
        }
        validators.push((validator, member.power));
    }
    // Summed in u128: a genesis file handed to the library need not have been
    // validated, so its powers may be anything.
    let signed: u128 = validators.iter().map(|(_, power)| u128::from(*power)).sum();
    let total: u128 = set.iter().map(|v| u128::from(v.power)).sum();
    let saturate = |power: u128| u64::try_from(power).unwrap_or(u64::MAX);
    if 3 * signed <= 2 * total {
        return Err(VerifyError::InsufficientPower {
            place,
            signed: saturate(signed),
            total: saturate(total),
        });
    }
    Ok(Signers {
        validators,
        signed_power: saturate(signed),
        total_power: saturate(total),
    })
}
