//! The verification itself, in the order a reader would check by hand: the file's
//! version; the chain of validator sets from the trusted genesis; the certified
//! block's commit; every state value's proof against its state root; that the state
//! is this genesis's chain and its set is the one the chain leads to; then what the
//! claim rests on.

use crate::chain::SetWalk;
use crate::commit::{check_commit, Signers};
use crate::error::{Place, VerifyError};
use crate::format::{Certificate, Claim, ProvenValue, SetChange, StateAnchor, FORMAT_VERSION};
use crate::report::{CertifiedBy, Finding, Verified};
use crate::time::utc;
use crate::values::ProvenState;
use crate::{document, record};
use tamga_runtime::state::keys;
use tamga_runtime::types::{BlockHeader, Commit};
use tamga_runtime::validators::ValidatorSchedule;
use tamga_runtime::{Genesis, Hash32};

/// Checks that a verified document certificate is about the file whose blake3 hash
/// is `given`: one changed byte of the file, and it is not.
pub fn check_document(verified: &Verified, given: &Hash32) -> Result<(), VerifyError> {
    match &verified.finding {
        Finding::Document(d) if d.hash == *given => Ok(()),
        Finding::Document(d) => Err(VerifyError::DocumentMismatch {
            certified: d.hash,
            given: *given,
        }),
        Finding::Record(_) => Err(VerifyError::NotADocument),
    }
}

/// Reads and verifies a certificate file against a trusted genesis.
pub fn verify_bytes(bytes: &[u8], genesis: &Genesis) -> Result<Verified, VerifyError> {
    verify(&Certificate::from_bytes(bytes)?, genesis)
}

/// Verifies a decoded certificate against a trusted genesis.
pub fn verify(cert: &Certificate, genesis: &Genesis) -> Result<Verified, VerifyError> {
    let chain_id = genesis.chain_id.as_str();
    let height = cert.header.height;
    let signed = Signed {
        header: &cert.header,
        commit: &cert.commit,
        set_changes: &cert.set_changes,
        values: &cert.values,
    };
    let (signers, state) = signed.check(genesis)?;
    let genesis_hash = genesis.hash();
    let finding = match &cert.claim {
        Claim::Record { id } => Finding::Record(Box::new(record::check(&state, id, cert, height)?)),
        Claim::Document { hash } => Finding::Document(document::check(&state, hash, cert)?),
    };
    Ok(Verified {
        format_version: FORMAT_VERSION,
        chain_id: chain_id.to_owned(),
        genesis_hash,
        height,
        time_ms: cert.header.time_ms,
        time_utc: utc(cert.header.time_ms),
        block_hash: cert.commit.block_hash,
        state_root: cert.header.state_root,
        certified_by: signers
            .validators
            .iter()
            .map(|(validator, power)| CertifiedBy {
                validator: *validator,
                power: *power,
            })
            .collect(),
        signed_power: signers.signed_power,
        total_power: signers.total_power,
        validator_set_changes: cert.set_changes.len(),
        finding,
    })
}

/// Verifies a state anchor against a trusted genesis: its state root is one this
/// chain's validators committed (what a snapshot's state must then hash to).
pub fn verify_anchor(anchor: &StateAnchor, genesis: &Genesis) -> Result<(), VerifyError> {
    Signed {
        header: &anchor.header,
        commit: &anchor.commit,
        set_changes: &anchor.set_changes,
        values: &anchor.values,
    }
    .check(genesis)
    .map(|_| ())
}

/// A block's header and commit, the set changes leading to it and the values
/// proven in its state: what a certificate and a state anchor both rest on.
struct Signed<'a> {
    header: &'a BlockHeader,
    commit: &'a Commit,
    set_changes: &'a [SetChange],
    values: &'a [ProvenValue],
}

impl Signed<'_> {
    /// The chain of validator sets from the trusted genesis; the block's commit;
    /// every value's proof against its state root; that this state is this
    /// genesis's chain and its set is the one the chain leads to.
    fn check(&self, genesis: &Genesis) -> Result<(Signers, ProvenState), VerifyError> {
        let chain_id = genesis.chain_id.as_str();
        let height = self.header.height;
        let place = Place::Certified { height };
        let mut walk = SetWalk::from_genesis(genesis.schedule().current);
        for (i, change) in self.set_changes.iter().enumerate() {
            if change.header.height > height {
                return Err(VerifyError::Inconsistent(format!(
                    "validator-set change {} is at height {}, after the certified block",
                    i + 1,
                    change.header.height
                )));
            }
            walk.follow(chain_id, i + 1, change)?;
        }
        let set = walk.advance_to(height).to_vec();
        let signers = check_commit(chain_id, self.header, self.commit, &set, place)?;
        let state = ProvenState::check(self.values, &self.header.state_root, place)?;
        let genesis_hash = genesis.hash();
        let proven: Hash32 = state.require(&keys::genesis())?;
        if proven != genesis_hash {
            return Err(VerifyError::GenesisMismatch {
                proven,
                given: genesis_hash,
            });
        }
        let schedule: ValidatorSchedule = state.require(&keys::validators())?;
        walk.check_final(&schedule, place)?;
        Ok((signers, state))
    }
}
