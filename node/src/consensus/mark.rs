//! The signing high-water mark: the last (height, round, step) this validator
//! signed, with the bytes and the signature, kept beside its key (not in `data/`)
//! and synced to disk before any signature leaves the signer. Malachite's WAL
//! keeps a validator from signing twice within a height it still has on disk;
//! the mark keeps it from signing again at heights it has forgotten, e.g. after
//! `data/` was restored from an older copy. The same idea as CometBFT's
//! `priv_validator_state.json`.
//!
//! Rule: below the mark, refuse; at the mark, only the very same bytes (and the
//! stored signature is returned again); above it, sign and move the mark. One
//! exception below it: the first proposal of the round the mark's vote is in
//! (a block that was late, after the engine voted nil) is signed, and the mark
//! stays at the vote. The
//! proposals signed at the mark's height are remembered too, so the same
//! proposal signed again (the part that carries it, a re-proposal after a
//! restart) gets the same signature back, never a second one.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tamga_runtime::Hash32;

/// Steps in the order a validator signs them within a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Proposal,
    Prevote,
    Precommit,
}

/// The last thing signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub height: u64,
    pub round: i64,
    pub step: Step,
    pub sign_bytes: Hash32,
    #[serde(with = "hex_signature")]
    pub signature: [u8; 64],
    /// Proposals signed at this height: (round, bytes, signature).
    #[serde(default)]
    pub proposals: Vec<SignedProposal>,
    /// Written by a version that lists every proposal it signs at the mark's
    /// height (false in older files): only then does an empty list mean none.
    #[serde(default)]
    pub proposals_listed: bool,
}

/// A proposal this validator signed at the mark's height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProposal {
    pub round: i64,
    pub sign_bytes: Hash32,
    #[serde(with = "hex_signature")]
    pub signature: [u8; 64],
}

/// Proposals remembered per height (one per round this validator proposed in).
const PROPOSALS_KEPT_MAX: usize = 64;

impl Mark {
    fn position(&self) -> (u64, i64, Step) {
        (self.height, self.round, self.step)
    }
}

/// What the signer may do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Sign,
    /// The same bytes as last time: hand back the same signature.
    Repeat([u8; 64]),
    Refuse(String),
}

/// The rule, on its own (no I/O): decided from the mark and the request.
pub fn decide(mark: Option<&Mark>, at: (u64, i64, Step), bytes: &Hash32) -> Decision {
    let Some(mark) = mark else {
        return Decision::Sign;
    };
    let (height, round, step) = at;
    let done = mark.position();
    let earlier = (step == Step::Proposal && height == mark.height)
        .then(|| mark.proposals.iter().find(|p| p.round == round))
        .flatten();
    if let Some(earlier) = earlier {
        if &earlier.sign_bytes == bytes {
            return Decision::Repeat(earlier.signature);
        }
    }
    // A proposal for the mark's own round that arrives after this validator's
    // vote in it (the block took longer to build than the propose timeout, so
    // the engine voted nil first): no proposal was signed in that round, so
    // signing one cannot contradict anything; the mark stays where it is.
    // The mark must be a vote, written by a version that lists the proposals it
    // signs (an older file's empty list says nothing about which one was).
    let late_proposal = step == Step::Proposal
        && (height, round) == (mark.height, mark.round)
        && mark.step > Step::Proposal
        && mark.proposals_listed;
    if (at > done || late_proposal) && earlier.is_none() {
        return Decision::Sign;
    }
    if at == done && &mark.sign_bytes == bytes {
        return Decision::Repeat(mark.signature);
    }
    Decision::Refuse(format!(
        "refusing to sign a {step:?} at height {height} round {round}: this validator already signed a {:?} at height {} round {}{} — its data directory is older than its signatures (restored from a copy?); it follows the chain until it passes that mark",
        mark.step,
        mark.height,
        mark.round,
        if at == done { " for different bytes" } else { "" },
    ))
}

/// Why a signature was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    /// The rule refused: at or below the mark, other bytes (a would-be double
    /// signature). The engine then stops and the node follows the chain.
    #[error("{0}")]
    Refused(String),
    /// This node could not write its mark: a local failure that stops the node.
    #[error("{0}")]
    Persist(String),
}

/// The mark on disk, behind a lock: one signature at a time.
pub struct SigningState {
    path: PathBuf,
    mark: Mutex<Option<Mark>>,
    /// Set when a request from the consensus engine was refused: the engine
    /// then stops, and the node follows the chain past the mark instead of
    /// failing. (A refusal of the host's own part signature only means it does
    /// not propose, and is not noted here.)
    refused: std::sync::atomic::AtomicBool,
}

impl SigningState {
    /// Reads the mark; a missing file is a validator that never signed. A file
    /// that does not parse stops the node: guessing could mean signing twice.
    pub fn open(path: &Path) -> Result<SigningState> {
        let mark = match std::fs::read(path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "signing state {} is corrupt; refusing to sign with an unknown mark",
                    path.display()
                )
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(SigningState {
            path: path.to_owned(),
            mark: Mutex::new(mark),
            refused: Default::default(),
        })
    }

    /// The height of the last signature, if any.
    pub fn height(&self) -> Option<u64> {
        self.lock().as_ref().map(|m| m.height)
    }

    /// Notes that the consensus engine's request was refused.
    pub fn note_engine_refusal(&self) {
        self.refused
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether an engine request was refused since the last call (and clears it).
    pub fn take_refused(&self) -> bool {
        self.refused
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// The last signature's (height, round, step), if any.
    pub fn last(&self) -> Option<(u64, i64, Step)> {
        self.lock().as_ref().map(Mark::position)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Mark>> {
        self.mark.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs `bytes` at `at` with `sign` if the rule allows, persisting the new
    /// mark before the signature is returned.
    pub fn sign(
        &self,
        at: (u64, i64, Step),
        bytes: &Hash32,
        sign: impl FnOnce(&Hash32) -> [u8; 64],
    ) -> Result<[u8; 64], MarkError> {
        let mut mark = self.lock();
        match decide(mark.as_ref(), at, bytes) {
            Decision::Refuse(why) => Err(MarkError::Refused(why)),
            Decision::Repeat(signature) => Ok(signature),
            Decision::Sign => {
                let signature = sign(bytes);
                let mut proposals = match mark.as_ref() {
                    Some(m) if m.height == at.0 => m.proposals.clone(),
                    _ => vec![],
                };
                if at.2 == Step::Proposal {
                    if proposals.len() >= PROPOSALS_KEPT_MAX {
                        proposals.remove(0);
                    }
                    proposals.push(SignedProposal {
                        round: at.1,
                        sign_bytes: *bytes,
                        signature,
                    });
                }
                let next = match mark.as_ref() {
                    // A late proposal (see [`decide`]): remembered, the mark kept.
                    Some(m) if at < m.position() => Mark {
                        proposals,
                        ..m.clone()
                    },
                    _ => Mark {
                        height: at.0,
                        round: at.1,
                        step: at.2,
                        sign_bytes: *bytes,
                        signature,
                        proposals,
                        proposals_listed: true,
                    },
                };
                assert!(
                    mark.as_ref()
                        .is_none_or(|m| next.position() >= m.position()),
                    "the signing mark never moves back"
                );
                write_synced(&self.path, &next).map_err(|e| {
                    MarkError::Persist(format!(
                        "cannot persist the signing mark, not signing: {e:#}"
                    ))
                })?;
                *mark = Some(next);
                Ok(signature)
            }
        }
    }
}

/// Write to a temporary file, sync it, rename it over the old one, sync the
/// directory: a crash leaves the old mark or the new one, never a torn file.
fn write_synced(path: &Path, mark: &Mark) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec_pretty(mark)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

mod hex_signature {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("a signature is 64 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(height: u64, round: i64, step: Step, bytes: u8) -> Mark {
        Mark {
            height,
            round,
            step,
            sign_bytes: Hash32([bytes; 32]),
            signature: [bytes; 64],
            proposals: vec![],
            proposals_listed: true,
        }
    }

    #[test]
    fn below_the_mark_is_refused_at_it_only_the_same_bytes_above_it_signs() {
        let m = mark(10, 1, Step::Prevote, 7);
        let at = |h, r, s| decide(Some(&m), (h, r, s), &Hash32([9; 32]));
        assert!(matches!(at(9, 5, Step::Precommit), Decision::Refuse(_)));
        assert!(matches!(at(10, 0, Step::Precommit), Decision::Refuse(_)));
        assert!(matches!(at(10, 0, Step::Proposal), Decision::Refuse(_)));
        assert_eq!(at(10, 1, Step::Proposal), Decision::Sign, "a late proposal");
        assert!(
            matches!(at(10, 1, Step::Prevote), Decision::Refuse(_)),
            "same step, other bytes"
        );
        assert_eq!(
            decide(Some(&m), (10, 1, Step::Prevote), &Hash32([7; 32])),
            Decision::Repeat([7; 64])
        );
        assert_eq!(at(10, 1, Step::Precommit), Decision::Sign);
        assert_eq!(at(10, 2, Step::Proposal), Decision::Sign);
        assert_eq!(at(11, 0, Step::Proposal), Decision::Sign);
        assert_eq!(
            decide(None, (1, 0, Step::Prevote), &Hash32([0; 32])),
            Decision::Sign
        );
    }

    /// A proposal signed at this height, asked for again after the validator has
    /// voted (its part, a re-proposal after a restart): the same signature comes
    /// back; other bytes for that round are refused, even above the mark.
    #[test]
    fn a_proposal_already_signed_is_signed_the_same_way_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = SigningState::open(&dir.path().join("signing_state.json")).unwrap();
        let proposal = Hash32([4; 32]);
        let first = state
            .sign((7, 0, Step::Proposal), &proposal, |_| [4; 64])
            .unwrap();
        state
            .sign((7, 0, Step::Prevote), &Hash32([5; 32]), |_| [5; 64])
            .unwrap();
        let again = state.sign((7, 0, Step::Proposal), &proposal, |_| {
            panic!("no new signature")
        });
        assert_eq!(again.unwrap(), first);
        let other = state.sign((7, 0, Step::Proposal), &Hash32([6; 32]), |_| [6; 64]);
        assert!(other.is_err(), "another proposal for that round is refused");
        assert!(!state.take_refused(), "only the engine's refusals stop it");
        state
            .sign((7, 1, Step::Proposal), &Hash32([8; 32]), |_| [8; 64])
            .unwrap();
        let again = state.sign((7, 1, Step::Proposal), &Hash32([9; 32]), |_| [9; 64]);
        assert!(again.is_err(), "one proposal per round");
        let reopened = SigningState::open(&dir.path().join("signing_state.json")).unwrap();
        let after_restart = reopened.sign((7, 1, Step::Proposal), &Hash32([8; 32]), |_| {
            panic!("no new signature after a restart either")
        });
        assert_eq!(after_restart.unwrap(), [8; 64]);
    }

    /// The engine voted nil in a round because its own block was late, then asks
    /// for the proposal: it is signed once (nothing was proposed in that round),
    /// the mark stays at the vote, and the vote cannot be signed over again.
    #[test]
    fn a_late_proposal_in_the_marked_round_is_signed_and_the_mark_stays() {
        let dir = tempfile::tempdir().unwrap();
        let state = SigningState::open(&dir.path().join("signing_state.json")).unwrap();
        state
            .sign((714, 0, Step::Precommit), &Hash32([1; 32]), |_| [1; 64])
            .unwrap();
        let late = state.sign((714, 0, Step::Proposal), &Hash32([2; 32]), |_| [2; 64]);
        assert_eq!(late.unwrap(), [2; 64]);
        assert_eq!(state.last(), Some((714, 0, Step::Precommit)));
        let second = state.sign((714, 0, Step::Proposal), &Hash32([3; 32]), |_| [3; 64]);
        assert!(second.is_err(), "one proposal per round");
        let revote = state.sign((714, 0, Step::Precommit), &Hash32([4; 32]), |_| [4; 64]);
        assert!(revote.is_err(), "the vote is not signed over");
        // A mark at a proposal does not tell which one was signed, nor does a
        // vote in an older version's file (no list): another is refused.
        let at_proposal = mark(714, 0, Step::Proposal, 5);
        let other = decide(
            Some(&at_proposal),
            (714, 0, Step::Proposal),
            &Hash32([6; 32]),
        );
        assert!(matches!(other, Decision::Refuse(_)));
        let older_file = Mark {
            proposals_listed: false,
            ..mark(714, 0, Step::Prevote, 5)
        };
        let other = decide(
            Some(&older_file),
            (714, 0, Step::Proposal),
            &Hash32([6; 32]),
        );
        assert!(matches!(other, Decision::Refuse(_)));
        assert_eq!(
            decide(
                Some(&mark(714, 0, Step::Prevote, 5)),
                (714, 0, Step::Proposal),
                &Hash32([6; 32])
            ),
            Decision::Sign
        );
        let reopened = SigningState::open(&dir.path().join("signing_state.json")).unwrap();
        let again = reopened.sign((714, 0, Step::Proposal), &Hash32([2; 32]), |_| {
            panic!("the same signature comes back")
        });
        assert_eq!(again.unwrap(), [2; 64]);
    }

    #[test]
    fn the_mark_survives_a_restart_and_is_written_before_the_signature_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing_state.json");
        let state = SigningState::open(&path).unwrap();
        let signature = state
            .sign((5, 0, Step::Prevote), &Hash32([1; 32]), |_| [3; 64])
            .unwrap();
        assert_eq!(signature, [3; 64]);
        let reopened = SigningState::open(&path).unwrap();
        assert_eq!(reopened.height(), Some(5));
        let refused = reopened.sign((4, 0, Step::Precommit), &Hash32([2; 32]), |_| {
            panic!("must not sign below the mark")
        });
        assert!(refused.unwrap_err().to_string().contains("height 5"));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(
            SigningState::open(&path).is_err(),
            "a corrupt mark stops the node"
        );
    }
}
