//! Blocks this node has built or received and executed, waiting for a decision.
//! Bounded: only heights within [`HEIGHTS_AHEAD_MAX`] of the tip are kept, at most
//! [`VALUES_PER_HEIGHT_MAX`] per height, and all of a height goes once it commits.

use super::context::{BlockId, Height, ProposalPart, TamgaContext};
use crate::storage::ExecutedBlock;
use arc_malachitebft_core_consensus::ProposedValue;
use arc_malachitebft_core_types::Round;
use std::collections::BTreeMap;
use tamga_runtime::{Hash32, TxError};

/// Future heights whose parts are buffered until this node reaches them.
pub const HEIGHTS_AHEAD_MAX: u64 = 4;
/// Distinct values kept per height (one per round is the honest case).
pub const VALUES_PER_HEIGHT_MAX: usize = 64;

/// An executed block and what the proposer dropped while building it.
pub struct Candidate {
    pub executed: ExecutedBlock,
    pub dropped: Vec<(Hash32, TxError)>,
    /// The signed part, kept to restream it verbatim when asked (none for synced blocks).
    pub part: Option<ProposalPart>,
}

#[derive(Default)]
pub struct Values {
    executed: BTreeMap<(Height, BlockId), Candidate>,
    proposed: BTreeMap<(Height, Round), Vec<ProposedValue<TamgaContext>>>,
    /// Parts for heights above the next one, checked once it is reached.
    pending: BTreeMap<Height, Vec<ProposalPart>>,
}

impl Values {
    fn count_at(&self, height: Height) -> usize {
        self.executed
            .range((height, BlockId([0; 32]))..=(height, BlockId([0xff; 32])))
            .count()
    }

    /// Keeps an executed candidate; refuses (returns false) past the per-height bound.
    pub fn insert(&mut self, height: Height, candidate: Candidate) -> bool {
        let id = BlockId(candidate.executed.block.header.hash().0);
        if !self.executed.contains_key(&(height, id))
            && self.count_at(height) >= VALUES_PER_HEIGHT_MAX
        {
            return false;
        }
        self.executed.insert((height, id), candidate);
        true
    }

    pub fn get(&self, height: Height, id: &BlockId) -> Option<&Candidate> {
        self.executed.get(&(height, *id))
    }

    pub fn take(&mut self, height: Height, id: &BlockId) -> Option<Candidate> {
        self.executed.remove(&(height, *id))
    }

    /// Notes a value consensus has seen for a round, to hand back after a restart.
    pub fn note_proposed(&mut self, value: ProposedValue<TamgaContext>) {
        let round_values = self
            .proposed
            .entry((value.height, value.round))
            .or_default();
        if round_values.len() < VALUES_PER_HEIGHT_MAX && !round_values.contains(&value) {
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
    pub fn own(
        &self,
        height: Height,
        round: Round,
        me: &super::context::Address,
    ) -> Option<BlockId> {
        self.proposed
            .get(&(height, round))?
            .iter()
            .find(|v| &v.proposer == me)
            .map(|v| v.value)
    }

    /// Buffers a part for a later height; false if it is too far ahead or too many.
    pub fn buffer(&mut self, next: Height, part: ProposalPart) -> bool {
        if part.height <= next || part.height.0 > next.0 + HEIGHTS_AHEAD_MAX {
            return false;
        }
        let parts = self.pending.entry(part.height).or_default();
        if parts.len() >= VALUES_PER_HEIGHT_MAX {
            return false;
        }
        parts.push(part);
        true
    }

    pub fn take_pending(&mut self, height: Height) -> Vec<ProposalPart> {
        self.pending.remove(&height).unwrap_or_default()
    }

    /// Forgets everything at or below a committed height.
    pub fn prune(&mut self, committed: Height) {
        let next = Height(committed.0 + 1);
        self.executed = self.executed.split_off(&(next, BlockId([0; 32])));
        self.proposed = self.proposed.split_off(&(next, Round::Nil));
        self.pending = self.pending.split_off(&next);
    }
}

/// Blocks this node has accepted as proposals, on disk until their height commits.
/// Consensus's WAL remembers that a value was proposed and valid; after a crash it
/// can decide that value, and the block behind it must still be here to execute.
pub struct BlockFiles {
    dir: std::path::PathBuf,
}

impl BlockFiles {
    pub fn open(dir: std::path::PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(BlockFiles { dir })
    }

    fn path(&self, height: Height, id: &BlockId) -> std::path::PathBuf {
        self.dir.join(format!("{:020}-{id}.block", height.0))
    }

    /// Writes and syncs the block before consensus hears of it.
    pub fn save(&self, height: Height, id: &BlockId, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let path = self.path(height, id);
        let mut file = std::fs::File::create(&path)?;
        file.write_all(bytes)?;
        file.sync_data()
    }

    fn own_path(&self, height: Height, round: Round) -> std::path::PathBuf {
        self.dir
            .join(format!("{:020}-own-{}", height.0, round.as_i64()))
    }

    /// Records which block this node proposed in a round, so that after a crash
    /// it proposes the very same one again instead of signing a second proposal.
    pub fn save_own(&self, height: Height, round: Round, id: &BlockId) -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(self.own_path(height, round))?;
        file.write_all(&id.0)?;
        file.sync_data()
    }

    pub fn own(&self, height: Height, round: Round) -> Option<BlockId> {
        let bytes = std::fs::read(self.own_path(height, round)).ok()?;
        Some(BlockId(bytes.try_into().ok()?))
    }

    pub fn load(&self, height: Height, id: &BlockId) -> Option<Vec<u8>> {
        std::fs::read(self.path(height, id)).ok()
    }

    /// Removes every file at or below a committed height.
    pub fn prune(&self, committed: Height) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let height = name
                .to_str()
                .and_then(|n| n.split('-').next()?.parse::<u64>().ok());
            if height.is_some_and(|h| h <= committed.0) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
