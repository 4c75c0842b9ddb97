//! What the host keeps between messages, every piece of it bounded.
//!
//! [`Values`]: blocks this node built or received and executed, waiting for a
//! decision. At most [`VALUES_PER_HEIGHT_MAX`] received ones per height — past
//! that the lowest round's is forgotten (its block stays in the proposal store
//! and is executed again if decided) — and this node's own are never forgotten.
//!
//! [`Intake`]: the signed parts each (height, round) already had from its
//! proposer — a replay carries the same signature, so it is dropped before any
//! decoding, and a proposer gets at most [`PARTS_PER_ROUND_MAX`] distinct parts
//! into a round — the round consensus is in (so parts for rounds far ahead are
//! dropped), and parts for the next few heights, within a byte budget, until this
//! node gets there.

use super::context::{BlockId, Height, ProposalPart, TamgaContext};
use super::signing::Sig;
use crate::storage::ExecutedBlock;
use arc_malachitebft_core_consensus::ProposedValue;
use arc_malachitebft_core_types::Round;
use std::collections::BTreeMap;
use tamga_runtime::limits::BLOCK_BYTES_MAX;
use tamga_runtime::validators::VALIDATOR_SET_DELAY;
use tamga_runtime::{Hash32, TxError};

/// Future heights whose parts are kept until this node reaches them. A part's
/// sender is checked against the validator set of its height, read from this
/// node's committed state; a set change committed at the next height takes effect
/// [`VALIDATOR_SET_DELAY`] heights after it, so only the heights before that are
/// known for sure. Further ahead, a genuine part of a new set would be dropped as
/// a stranger's (and the node would reach that height without its proposal).
pub const HEIGHTS_AHEAD_MAX: u64 = VALIDATOR_SET_DELAY - 1;
const _: () = assert!(HEIGHTS_AHEAD_MAX >= 1 && HEIGHTS_AHEAD_MAX < VALIDATOR_SET_DELAY);
/// Rounds ahead of the current one whose parts are accepted (a part for a round
/// this node has not reached yet arrives when others time out sooner).
pub const ROUNDS_AHEAD_MAX: u32 = 8;
/// Distinct parts accepted per (height, round): its proposer's block, and one
/// more so an equivocating proposer's other block cannot shut out the one its
/// signed proposal names (Malachite keeps two values per round too).
pub const PARTS_PER_ROUND_MAX: usize = 2;
/// Received executed blocks kept in memory per height.
pub const VALUES_PER_HEIGHT_MAX: usize = 8;
/// Bytes of parts kept for future heights.
pub const PENDING_BYTES_MAX: usize = 4 * BLOCK_BYTES_MAX;

/// An executed block and what the proposer dropped while building it.
pub struct Candidate {
    pub executed: ExecutedBlock,
    pub dropped: Vec<(Hash32, TxError)>,
    /// The round it was proposed in (the lowest is forgotten first).
    pub round: Round,
    /// The signed part, kept to restream it verbatim when asked (none for synced blocks).
    pub part: Option<ProposalPart>,
}

struct Kept {
    candidate: Candidate,
    own: bool,
}

#[derive(Default)]
pub struct Values {
    executed: BTreeMap<(Height, BlockId), Kept>,
    proposed: BTreeMap<(Height, Round), Vec<ProposedValue<TamgaContext>>>,
}

impl Values {
    /// Keeps an executed candidate. This node's own are always kept; a received
    /// one past the per-height bound pushes out the lowest-round received one.
    pub fn insert(&mut self, height: Height, candidate: Candidate, own: bool) {
        let id = BlockId(candidate.executed.block.header.hash().0);
        if !own && !self.executed.contains_key(&(height, id)) {
            self.make_room(height);
        }
        self.executed.insert((height, id), Kept { candidate, own });
    }

    fn make_room(&mut self, height: Height) {
        let range = (height, BlockId([0; 32]))..=(height, BlockId([0xff; 32]));
        let received: Vec<(Round, BlockId)> = self
            .executed
            .range(range)
            .filter(|(_, kept)| !kept.own)
            .map(|((_, id), kept)| (kept.candidate.round, *id))
            .collect();
        if received.len() < VALUES_PER_HEIGHT_MAX {
            return;
        }
        let lowest = received.iter().min().map(|(_, id)| *id);
        if let Some(id) = lowest {
            tracing::debug!(%height, block = %id, "forgetting the lowest round's block (kept on disk)");
            self.executed.remove(&(height, id));
        }
    }

    pub fn get(&self, height: Height, id: &BlockId) -> Option<&Candidate> {
        self.executed.get(&(height, *id)).map(|k| &k.candidate)
    }

    pub fn take(&mut self, height: Height, id: &BlockId) -> Option<Candidate> {
        self.executed.remove(&(height, *id)).map(|k| k.candidate)
    }

    /// Notes a value consensus has seen for a round, to hand back after a restart.
    pub fn note_proposed(&mut self, value: ProposedValue<TamgaContext>) {
        let round_values = self
            .proposed
            .entry((value.height, value.round))
            .or_default();
        // Malachite itself keeps at most two values per round.
        if round_values.len() < 2 && !round_values.contains(&value) {
            round_values.push(value);
        }
    }

    pub fn proposed(&self, height: Height, round: Round) -> Vec<ProposedValue<TamgaContext>> {
        self.proposed
            .get(&(height, round))
            .cloned()
            .unwrap_or_default()
    }

    /// The value this node itself built for a round, if it already did.
    pub fn own(&self, height: Height, round: Round) -> Option<BlockId> {
        self.executed
            .range((height, BlockId([0; 32]))..=(height, BlockId([0xff; 32])))
            .find(|(_, kept)| kept.own && kept.candidate.round == round)
            .map(|((_, id), _)| *id)
    }

    /// Forgets everything at or below a committed height.
    pub fn prune(&mut self, committed: Height) {
        let next = Height(committed.0 + 1);
        self.executed = self.executed.split_off(&(next, BlockId([0; 32])));
        self.proposed = self.proposed.split_off(&(next, Round::Nil));
    }
}

/// Why a part was dropped before any costly work (logged, never a vote).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    #[error("for a height already committed")]
    Stale,
    #[error("for a height more than {HEIGHTS_AHEAD_MAX} ahead")]
    TooFarAhead,
    #[error("for round {0}, more than {ROUNDS_AHEAD_MAX} ahead of the current one, or no round")]
    BadRound(i64),
    #[error("a replay: this part was already received")]
    Replay,
    #[error("this (height, round) already has {PARTS_PER_ROUND_MAX} parts from its proposer")]
    RoundFull,
    #[error("the buffer for future heights is full ({PENDING_BYTES_MAX} bytes)")]
    BufferFull,
}

pub struct Intake {
    current: (Height, Round),
    /// Signatures of the parts accepted per (height, round).
    seen: BTreeMap<(Height, Round), Vec<Sig>>,
    /// One part per (height, round) for later heights.
    pending: BTreeMap<(Height, Round), ProposalPart>,
    pending_bytes: usize,
}

impl Default for Intake {
    fn default() -> Self {
        Intake {
            current: (Height(0), Round::Nil),
            seen: BTreeMap::new(),
            pending: BTreeMap::new(),
            pending_bytes: 0,
        }
    }
}

impl Intake {
    pub fn enter_round(&mut self, height: Height, round: Round) {
        self.current = (height, round);
    }

    /// The cheap checks, before any decoding: height window, round bound, replay.
    pub fn screen(&self, next: Height, part: &ProposalPart) -> Result<(), Dropped> {
        if part.height < next {
            return Err(Dropped::Stale);
        }
        if part.height.0 > next.0 + HEIGHTS_AHEAD_MAX {
            return Err(Dropped::TooFarAhead);
        }
        let base = match self.current.0 == part.height {
            true => self.current.1.as_u32().unwrap_or(0),
            false => 0,
        };
        match part.round.as_u32() {
            Some(round) if round <= base.saturating_add(ROUNDS_AHEAD_MAX) => {}
            _ => return Err(Dropped::BadRound(part.round.as_i64())),
        }
        let seen = self.seen.get(&(part.height, part.round));
        if seen.is_some_and(|sigs| sigs.contains(&part.signature)) {
            return Err(Dropped::Replay);
        }
        if seen.is_some_and(|sigs| sigs.len() >= PARTS_PER_ROUND_MAX) {
            return Err(Dropped::RoundFull);
        }
        Ok(())
    }

    /// Records an accepted part: the same signature again is a replay.
    pub fn mark_seen(&mut self, part: &ProposalPart) {
        let sigs = self.seen.entry((part.height, part.round)).or_default();
        if !sigs.contains(&part.signature) {
            sigs.push(part.signature);
        }
    }

    /// Keeps a checked part for a later height, one per (height, round), within
    /// the byte budget: when full, the farthest height's part gives way to a
    /// nearer one (the nearer is needed sooner), never the reverse.
    pub fn buffer(&mut self, part: ProposalPart) -> Result<(), Dropped> {
        let key = (part.height, part.round);
        if self.pending.contains_key(&key) {
            return Err(Dropped::RoundFull);
        }
        let bytes = part.block.len();
        // Room it would free: the parts of heights farther than this one.
        let farther: usize = self
            .pending
            .range((Height(part.height.0 + 1), Round::Nil)..)
            .map(|(_, p)| p.block.len())
            .sum();
        if self.pending_bytes - farther + bytes > PENDING_BYTES_MAX {
            return Err(Dropped::BufferFull);
        }
        while self.pending_bytes + bytes > PENDING_BYTES_MAX {
            let Some((far, old)) = self.pending.pop_last() else {
                break;
            };
            self.pending_bytes -= old.block.len();
            self.seen.remove(&far);
        }
        self.mark_seen(&part);
        self.pending_bytes += bytes;
        self.pending.insert(key, part);
        Ok(())
    }

    /// The buffered parts for `height`, to check again now that it has come.
    pub fn take_pending(&mut self, height: Height) -> Vec<ProposalPart> {
        let later = self.pending.split_off(&(Height(height.0 + 1), Round::Nil));
        let now = std::mem::replace(&mut self.pending, later);
        let parts: Vec<ProposalPart> = now
            .into_iter()
            .filter(|((h, _), _)| *h == height)
            .map(|(_, part)| part)
            .collect();
        self.pending_bytes = self.pending_size();
        for part in &parts {
            self.seen.remove(&(part.height, part.round));
        }
        parts
    }

    /// Forgets everything at or below a committed height.
    pub fn prune(&mut self, committed: Height) {
        let next = Height(committed.0 + 1);
        self.seen = self.seen.split_off(&(next, Round::Nil));
        self.pending = self.pending.split_off(&(next, Round::Nil));
        self.pending_bytes = self.pending_size();
    }

    fn pending_size(&self) -> usize {
        self.pending.values().map(|p| p.block.len()).sum()
    }
}
