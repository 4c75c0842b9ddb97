//! The application side of consensus, in the three steps a BFT engine drives:
//! *build a block* when this node proposes, *execute a proposed block* before voting
//! for it, and *commit a decided block*. `consensus/host.rs` calls them as
//! Malachite asks; they know nothing of rounds or votes.

use crate::mempool::check::{check_parallel, check_parallel_parts, through_batch, Staged};
use crate::mempool::verified::RecentChecks;
use crate::mempool::Mempool;
use crate::stages::Stage;
use crate::storage::{state_root_after, ExecutedBlock, Storage, StorageError, Tip};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Instant;
use tamga_runtime::contracts::vm::limits::BLOCK_FUEL_MAX;
use tamga_runtime::contracts::BlockFuel;
use tamga_runtime::contracts::Vm;
use tamga_runtime::execute::{begin_block, record_tip};
use tamga_runtime::limits::{BLOCK_TXS_MAX, TX_BYTES_MAX};
use tamga_runtime::records::{Event, Signer};
use tamga_runtime::state::CorruptState;
use tamga_runtime::state::Overlay;
use tamga_runtime::types::{encoding, txs_hash, Block, BlockHeader, Commit, SignedTx};
use tamga_runtime::{
    apply_tx_recorded, check_signatures_batch, BlockContext, Hash32, HashedTx, PublicKey, TxError,
    VerifiedTx,
};
use tokio::sync::{broadcast, mpsc};

/// Why a proposed block is refused.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("block height {got} does not follow the tip {tip}")]
    Height { tip: u64, got: u64 },
    #[error("block does not extend the tip: prev_hash {got} != {expected}")]
    PrevHash { expected: Hash32, got: Hash32 },
    #[error(
        "block time {got} ms is not after the previous block's {prev} ms (BFT time is monotonic)"
    )]
    Time { prev: u64, got: u64 },
    #[error("block is for chain {0:?}")]
    Chain(String),
    #[error("block carries {got} transactions; the limit is {max}")]
    TooManyTxs { got: usize, max: usize },
    #[error("transaction {index} is invalid: {error}")]
    Tx { index: usize, error: TxError },
    #[error("txs_hash does not match the transactions and their signatures")]
    TxsHash,
    #[error("state root {got} does not match the executed state {expected}")]
    StateRoot { expected: Hash32, got: Hash32 },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Corrupt(#[from] CorruptState),
    #[error("erasing personal data from the vault: {0}")]
    Vault(String),
    /// This node could not execute transaction `index` (see [`TxError::is_local`]).
    #[error("this node could not execute transaction {index}: {error}")]
    Local { index: usize, error: TxError },
}

impl BlockError {
    /// A failure of this node (its disk, its store, its resources), which says
    /// nothing about the block: never a reason to vote against it.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            BlockError::Storage(_)
                | BlockError::Corrupt(_)
                | BlockError::Local { .. }
                | BlockError::Vault(_)
        )
    }
}

/// Executed transactions: those that applied, with their events, and those dropped.
struct Execution {
    writes: tamga_runtime::state::WriteSet,
    included: Vec<SignedTx>,
    ids: Vec<Hash32>,
    events: Vec<Vec<Event>>,
    signers: Vec<Vec<Signer>>,
    dropped: Vec<(Hash32, TxError)>,
    fuel_used: u64,
}

/// What subscribers hear about each committed block.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BlockNotice {
    pub height: u64,
    pub hash: Hash32,
    pub time_ms: u64,
    pub state_root: Hash32,
    pub txs: Vec<Hash32>,
}

pub struct App {
    pub storage: Storage,
    pub chain_id: String,
    pub block_txs_max: usize,
    mempool: Mutex<Mempool>,
    tip: RwLock<Tip>,
    notices: broadcast::Sender<BlockNotice>,
    /// The contract sandbox, shared by every execution (its module cache too).
    pub vm: Arc<Vm>,
    /// Where admitted transactions go to be gossiped, once gossip runs.
    gossip: OnceLock<mpsc::Sender<Vec<u8>>>,
    /// The (height, round) consensus is in, for status and for tests that wait
    /// for rounds to pass rather than for time.
    round: Mutex<(u64, i64)>,
    /// This node's signing mark (set at start), for status.
    pub signing: OnceLock<Arc<crate::consensus::mark::SigningState>>,
    /// The state snapshots this node serves (set at start).
    pub snapshots: OnceLock<crate::snapshots::Snapshots>,
    /// The caches' warm-up at start (`[storage] warm_caches`), stopped at exit.
    pub warming: OnceLock<crate::storage::Warming>,
    /// Signature checks made for proposed blocks' transactions not pending here,
    /// so their gossip copies (arriving after the proposal) and a block proposed
    /// again are not checked twice.
    pub(crate) recent_checks: RecentChecks,
    /// Proposal parts dropped before any costly work (replays, strangers, bad
    /// signatures, rounds or heights out of bounds), for status.
    pub parts_dropped: std::sync::atomic::AtomicU64,
    /// Proposal parts whose blocks were executed (each distinct block once), for
    /// status: spam that gets past the intake shows here.
    pub parts_executed: std::sync::atomic::AtomicU64,
    /// Executed proposals this node voted against (a wrong root, an invalid
    /// transaction, a block past its fuel budget), for status.
    pub parts_refused: std::sync::atomic::AtomicU64,
    /// Clear personal data this node keeps as a certification authority (Art. 41).
    pub vault: crate::vault::Vault,
    /// Time spent per stage of a transaction's path, for status and benchmarks.
    pub stages: crate::stages::Stages,
    /// What `GET /metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl App {
    pub fn new(
        storage: Storage,
        chain_id: String,
        mempool: Mempool,
        tip: Tip,
        block_txs_max: usize,
        vm: Arc<Vm>,
        vault: crate::vault::Vault,
    ) -> Self {
        assert!(block_txs_max > 0 && block_txs_max <= BLOCK_TXS_MAX);
        let (notices, _) = broadcast::channel(256);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        metrics.set_height(tip.height);
        App {
            storage,
            chain_id,
            block_txs_max,
            mempool: Mutex::new(mempool),
            tip: RwLock::new(tip),
            notices,
            vm,
            gossip: OnceLock::new(),
            round: Mutex::new((0, -1)),
            signing: OnceLock::new(),
            snapshots: OnceLock::new(),
            warming: OnceLock::new(),
            recent_checks: Default::default(),
            parts_dropped: Default::default(),
            parts_executed: Default::default(),
            parts_refused: Default::default(),
            vault,
            stages: Default::default(),
            metrics,
        }
    }

    /// At start, deletes from the vault every subject whose erasure the ledger
    /// recorded (a crash between a block's commit and its vault erasure leaves
    /// some), and every subject the ledger never came to know (its certificate
    /// was stored here but never committed: the mempool is empty at start).
    pub fn erase_from_vault_what_the_ledger_erased(&self) -> anyhow::Result<()> {
        for subject in self.vault.subjects()? {
            let known: Option<tamga_runtime::pki::Subject> = self
                .storage
                .state_value(&tamga_runtime::state::keys::subject(&subject), "subject")?;
            let why = match known {
                None => "its certificate never committed",
                Some(s) if s.erased_height.is_some() => "the ledger recorded its erasure",
                Some(_) => continue,
            };
            self.vault.erase(&subject)?;
            tracing::info!(%subject, why, "personal data erased from the vault (Art. 41)");
        }
        Ok(())
    }

    /// Erases from the vault the subjects a committed block's erasure requests name.
    /// A failure here stops the node: the law asks for the erasure, and a restart
    /// finishes it ([`App::erase_from_vault_what_the_ledger_erased`]).
    fn erase_requested(&self, events: &[Vec<Event>]) -> Result<(), BlockError> {
        for event in events.iter().flatten() {
            if let Event::PersonalDataErased { subject, .. } = event {
                self.vault
                    .erase(subject)
                    .map_err(|e| BlockError::Vault(format!("{e:#}")))?;
                tracing::info!(%subject, "personal data erased from the vault (Art. 41)");
            }
        }
        Ok(())
    }

    /// Consensus entered (`height`, `round`).
    pub fn enter_round(&self, height: u64, round: i64) {
        *self.round.lock().unwrap_or_else(|e| e.into_inner()) = (height, round);
    }

    /// The caches' warm-up at start: off when not configured or not started.
    pub fn warm_up(&self) -> crate::storage::WarmUpStatus {
        (self.warming.get()).map_or_else(Default::default, crate::storage::Warming::status)
    }

    /// The (height, round) consensus is in.
    pub fn round(&self) -> (u64, i64) {
        *self.round.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connects admission to transaction gossip (once, at startup).
    pub fn set_gossip(&self, sender: mpsc::Sender<Vec<u8>>) {
        assert!(self.gossip.set(sender).is_ok(), "gossip is connected once");
    }

    pub fn tip(&self) -> Tip {
        self.tip.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BlockNotice> {
        self.notices.subscribe()
    }

    /// The context the next block will execute in, for mempool dry runs.
    pub fn next_context(&self, time_ms: u64) -> BlockContext {
        let tip = self.tip();
        BlockContext {
            chain_id: self.chain_id.clone(),
            height: tip.height + 1,
            time_ms: time_ms.max(tip.time_ms + 1),
            vm: self.vm.clone(),
        }
    }

    /// Applies transactions in order, drawing contract work from one block fuel
    /// budget. `strict` (a proposal from elsewhere) fails on the first invalid
    /// one, the budget's end included; otherwise (building a block) invalid ones
    /// are dropped and the block closes where the fuel budget ends or at
    /// `deadline`, the rest waiting in the mempool. A node-local failure is never
    /// taken for an invalid one.
    fn execute(
        &self,
        ctx: &BlockContext,
        txs: Vec<VerifiedTx>,
        strict: bool,
        fuel_max: u64,
        deadline: Option<Instant>,
    ) -> Result<Execution, BlockError> {
        assert!(
            !strict || deadline.is_none(),
            "a proposal is executed whole"
        );
        let started = Instant::now();
        let mut state = Overlay::new(&self.storage);
        begin_block(&mut state, ctx)?;
        // Sized for the block up front: growing them would copy each into
        // fresh pages a few times per block.
        let mut execution = Execution {
            writes: Default::default(),
            included: Vec::with_capacity(txs.len()),
            ids: Vec::with_capacity(txs.len()),
            events: Vec::with_capacity(txs.len()),
            signers: Vec::with_capacity(txs.len()),
            dropped: vec![],
            fuel_used: 0,
        };
        let fuel = BlockFuel::new(fuel_max);
        for (index, vtx) in txs.into_iter().enumerate() {
            if deadline.is_some_and(|d| index % 64 == 0 && Instant::now() >= d) {
                break;
            }
            match apply_tx_recorded(&mut state, ctx, &vtx, &fuel) {
                Ok(applied) => {
                    execution.ids.push(vtx.id);
                    execution.included.push(vtx.tx);
                    execution.events.push(applied.events);
                    execution.signers.push(applied.signers);
                }
                Err(error) if error.is_local() => return Err(BlockError::Local { index, error }),
                Err(error) if strict => return Err(BlockError::Tx { index, error }),
                Err(error) if error.is_block_full() => break,
                Err(error) => execution.dropped.push((vtx.id, error)),
            }
        }
        record_tip(&mut state, ctx);
        execution.writes = state.into_writes();
        execution.fuel_used = fuel_max.saturating_sub(fuel.left());
        // Counted over the transactions the block holds, not those it left out.
        (self.stages.execute).add(execution.ids.len(), started.elapsed());
        Ok(execution)
    }

    /// The state root after a block's writes, and the tree nodes to store.
    fn state_root(
        &self,
        height: u64,
        execution: &Execution,
    ) -> Result<(Hash32, jmt::storage::TreeUpdateBatch), BlockError> {
        let count = execution.ids.len();
        let root = (self.stages.state_root).time(count, || {
            state_root_after(&self.storage, height, &execution.writes)
        })?;
        Ok(root)
    }

    /// *Build a block*: take pending transactions in arrival order, execute them,
    /// and put the resulting state root in the header.
    pub fn build_block(
        &self,
        time_ms: u64,
        proposer: PublicKey,
    ) -> Result<(ExecutedBlock, Vec<(Hash32, TxError)>), BlockError> {
        self.build_block_within(time_ms, proposer, BLOCK_FUEL_MAX, None)
    }

    /// [`App::build_block`] within a contract fuel budget of `fuel_max` (a
    /// faulty proposer's, in tests, may claim more than validators allow) and,
    /// when given, taking no more transactions once `deadline` has passed: a
    /// proposal that arrives after its round's timeout is no proposal at all.
    pub fn build_block_within(
        &self,
        time_ms: u64,
        proposer: PublicKey,
        fuel_max: u64,
        deadline: Option<Instant>,
    ) -> Result<(ExecutedBlock, Vec<(Hash32, TxError)>), BlockError> {
        let tip = self.tip();
        let ctx = self.next_context(time_ms);
        let candidates = self.mempool().candidates(self.block_txs_max);
        let execution = self.execute(&ctx, candidates, false, fuel_max, deadline)?;
        let (state_root, tree) = self.state_root(ctx.height, &execution)?;
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height: ctx.height,
            time_ms: ctx.time_ms,
            prev_hash: tip.block_hash,
            txs_hash: txs_hash(&execution.included),
            state_root,
            proposer,
        };
        let block = Block {
            header,
            txs: execution.included,
        };
        let executed = ExecutedBlock {
            block,
            writes: execution.writes,
            tree,
            tx_ids: execution.ids,
            events: execution.events,
            signers: execution.signers,
            fuel_used: execution.fuel_used,
        };
        Ok((executed, execution.dropped))
    }

    /// *Execute a proposed block*: check it extends the tip, re-verify and re-execute
    /// every transaction, and refuse it unless the state root matches.
    pub fn execute_block(&self, block: Block) -> Result<ExecutedBlock, BlockError> {
        let tip = self.tip();
        let header = &block.header;
        if header.chain_id != self.chain_id {
            return Err(BlockError::Chain(header.chain_id.clone()));
        }
        if header.height != tip.height + 1 {
            return Err(BlockError::Height {
                tip: tip.height,
                got: header.height,
            });
        }
        if header.prev_hash != tip.block_hash {
            return Err(BlockError::PrevHash {
                expected: tip.block_hash,
                got: header.prev_hash,
            });
        }
        if header.time_ms <= tip.time_ms {
            return Err(BlockError::Time {
                prev: tip.time_ms,
                got: header.time_ms,
            });
        }
        // The protocol's bound, not this node's `block_txs_max` (which only
        // sizes the blocks it builds): validity must not depend on one node's
        // configuration, or a validator set lower would vote against honest blocks.
        if block.txs.len() > BLOCK_TXS_MAX {
            return Err(BlockError::TooManyTxs {
                got: block.txs.len(),
                max: BLOCK_TXS_MAX,
            });
        }
        // First, before any signature check: the header must commit to exactly
        // these transactions, signatures included (a relay cannot add or strip one).
        if header.txs_hash != txs_hash(&block.txs) {
            return Err(BlockError::TxsHash);
        }
        let verified = self.verify_block_txs(&block.txs)?;
        let ctx = BlockContext {
            chain_id: self.chain_id.clone(),
            height: header.height,
            time_ms: header.time_ms,
            vm: self.vm.clone(),
        };
        // Every validator holds every block to the same budget, whatever its
        // proposer claims.
        let execution = self.execute(&ctx, verified, true, BLOCK_FUEL_MAX, None)?;
        let (state_root, tree) = self.state_root(ctx.height, &execution)?;
        if state_root != header.state_root {
            return Err(BlockError::StateRoot {
                expected: state_root,
                got: header.state_root,
            });
        }
        Ok(ExecutedBlock {
            block,
            writes: execution.writes,
            tree,
            tx_ids: execution.ids,
            events: execution.events,
            signers: execution.signers,
            fuel_used: execution.fuel_used,
        })
    }

    /// Each transaction of a proposed block, verified: with the approvals of an
    /// earlier check that verified the same signatures (admission, which checked
    /// the size too, or an earlier block's check, see [`RecentChecks`]), the rest
    /// checked on every core, size first (a block must not smuggle in a
    /// transaction the mempool would refuse as too large), and remembered if every
    /// one verified. The checks count in the verify stage (time and transactions),
    /// and so do the remembered checks reused (transactions, no time), as at
    /// admission: its transactions less `signatures_reused` are the signatures
    /// checked. Hashing the block's transactions (on every core) and the
    /// mempool's lookups are not counted, so each transaction counts once.
    fn verify_block_txs(&self, txs: &[SignedTx]) -> Result<Vec<VerifiedTx>, BlockError> {
        let untimed = Stage::default();
        let hashed = check_parallel(txs, &untimed, |tx| HashedTx::new(tx.clone()));
        let mut known: Vec<Option<Vec<PublicKey>>> = {
            let mempool = self.mempool();
            hashed.iter().map(|tx| mempool.approvals(tx)).collect()
        };
        // Apart from the mempool's lock: the two are never held together.
        let mut reused = 0;
        for (approvals, tx) in known.iter_mut().zip(&hashed) {
            if approvals.is_none() {
                *approvals = self.recent_checks.approvals(tx);
                reused += usize::from(approvals.is_some());
            }
        }
        (self.stages.verify).add(reused, std::time::Duration::ZERO);
        let missing: Vec<usize> = (0..txs.len()).filter(|&i| known[i].is_none()).collect();
        // Each thread's part of the block in one batch of signatures.
        let checked = check_parallel_parts(&missing, &self.stages.verify, |part| {
            let sized = (part.iter())
                .map(|&i| match encoding::encode(&txs[i]).len() {
                    len if len > TX_BYTES_MAX => Staged::Decided(Err(TxError::TooLarge {
                        len,
                        max: TX_BYTES_MAX,
                    })),
                    _ => Staged::ToBatch(&hashed[i]),
                })
                .collect();
            through_batch(sized, |txs| check_signatures_batch(&txs, &self.chain_id))
        });
        let mut checked = missing.iter().copied().zip(checked);
        let mut verified = Vec::with_capacity(txs.len());
        for (index, (tx, approvals)) in hashed.into_iter().zip(known).enumerate() {
            let approvals = match approvals {
                Some(approvals) => approvals,
                None => {
                    let (at, result) = checked.next().expect("one check per missing tx");
                    assert_eq!(at, index, "checks stay in block order");
                    result.map_err(|error| BlockError::Tx { index, error })?
                }
            };
            let vtx = tx.verified_as(approvals);
            verified.push(vtx);
        }
        (self.recent_checks).remember(missing.iter().map(|&i| &verified[i]));
        Ok(verified)
    }

    /// *Commit a decided block*: one atomic write, then the mempool forgets what the
    /// block settled and subscribers hear of it.
    pub fn commit_block(
        &self,
        executed: ExecutedBlock,
        commit: Commit,
        dropped: Vec<(Hash32, TxError)>,
    ) -> Result<Tip, BlockError> {
        let count = executed.tx_ids.len();
        let parent = self.tip();
        let parent_time_ms = (parent.height > 0).then_some(parent.time_ms);
        let (new_tip, parts) =
            (self.stages.commit).time(count, || self.storage.commit_block(&executed, &commit))?;
        self.stages.commit_parts(count, &parts);
        *self.tip.write().unwrap_or_else(|e| e.into_inner()) = new_tip.clone();
        self.erase_requested(&executed.events)?;
        let ids = executed.tx_ids.clone();
        let next = self.next_context(new_tip.time_ms + 1);
        let mut mempool = self.mempool();
        (self.stages.recheck).time(ids.len(), || {
            mempool.on_commit(&self.storage, &next, &ids, dropped, &executed.block.txs);
        });
        self.metrics.set_mempool(mempool.len(), mempool.bytes());
        drop(mempool);
        let interval_ms = parent_time_ms.map(|parent| new_tip.time_ms.saturating_sub(parent));
        (self.metrics).committed(new_tip.height, interval_ms, count, executed.fuel_used);
        let notice = BlockNotice {
            height: new_tip.height,
            hash: new_tip.block_hash,
            time_ms: new_tip.time_ms,
            state_root: new_tip.state_root,
            txs: ids,
        };
        // No subscribers is fine: the block is committed either way.
        let _ = self.notices.send(notice);
        Ok(new_tip)
    }
}

#[path = "app_admission.rs"]
mod admission;
pub use admission::GossipAdmission;

#[cfg(test)]
#[path = "app_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "app_reuse_tests.rs"]
mod reuse_tests;

#[cfg(test)]
#[path = "app_parked_tests.rs"]
mod parked_tests;
