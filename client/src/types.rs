//! The results the node returns and the arguments that are more than an id,
//! as Rust types. Each mirrors the node's JSON field for field (a value `null`
//! there is an `Option` here), so a result read here and written back as JSON
//! is the JSON the node sent.

use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use tamga_runtime::contracts::{Contract, Instance};
use tamga_runtime::documents::DocumentSignature;
use tamga_runtime::pki::{CertStatus, Certificate, Revocation, SubjectKind};
use tamga_runtime::records::{Event, ProvenanceEntry, Record};
use tamga_runtime::types::Evidence;
use tamga_runtime::types::{BlockHeader, Bytes, Commit, SignedTx};
use tamga_runtime::validators::{ScheduledSet, Validator};
use tamga_runtime::{Hash32, PublicKey, SubjectId};

/// `node_status`: where the chain and this node's consensus are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub chain_id: String,
    pub moniker: String,
    /// The latest committed height.
    pub height: u64,
    pub block_hash: Hash32,
    pub state_root: Hash32,
    pub time_ms: u64,
    /// Transactions waiting in the mempool.
    pub mempool_txs: u64,
    /// Peers' transactions held for a nonce gap, not yet in the queue (0 from
    /// a node too old to hold any).
    #[serde(default)]
    pub mempool_held: u64,
    /// The lowest height whose block this node holds: 0 for a node that
    /// replayed from genesis, its snapshot's height for one that joined from a
    /// state snapshot (0 from a node too old to say).
    #[serde(default)]
    pub history_from: u64,
    /// Transactions (mostly gossip copies arriving after their block) whose
    /// signatures were not checked again because a recent proposal's check had;
    /// a proposal's transactions found in the mempool are not counted.
    pub signatures_reused: u64,
    pub consensus: ConsensusStatus,
    /// Time per stage of a transaction's path, by stage name (`verify`,
    /// `dry_run`, `execute`, `state_root`, `commit`, `recheck`).
    pub stages: BTreeMap<String, StageTime>,
}

/// The consensus engine's position and its counters of block parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusStatus {
    pub height: u64,
    pub round: i64,
    /// The last vote or proposal this validator signed, if any.
    pub last_signed: Option<LastSigned>,
    pub parts_dropped: u64,
    pub parts_executed: u64,
    pub parts_refused: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSigned {
    pub height: u64,
    pub round: i64,
    /// `proposal`, `prevote` or `precommit`.
    pub step: String,
}

/// Microseconds spent in one stage and the transactions it handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTime {
    pub us: u64,
    pub txs: u64,
}

/// `node_storage`: RocksDB's bytes per column family, the WAL, pending
/// compaction, the block cache, the node's state-value and tree-node caches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageUsage {
    pub column_families: BTreeMap<String, ColumnFamilyUsage>,
    pub wal_bytes: u64,
    pub compaction_pending: bool,
    pub block_cache: BlockCacheUsage,
    pub state_cache: NodeCacheUsage,
    pub tree_cache: NodeCacheUsage,
    /// Absent from nodes older than the field: reads as off.
    #[serde(default)]
    pub warm_up: WarmUp,
}

/// The node's cache warm-up at start (`[storage] warm_caches`): its state,
/// its time (so far, while it runs) and, once done, what it read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmUp {
    pub state: WarmUpState,
    pub elapsed_ms: u64,
    /// State values cached.
    pub state_values: u64,
    /// Tree nodes read (offered to the pinned levels and the tree cache; a
    /// batch left out after racing commits counts too).
    pub tree_nodes: u64,
    /// Tree nodes named but not on disk.
    pub nodes_missing: u64,
    /// Batches left out: each try raced a commit.
    pub batches_raced: u64,
    /// Both caches read to the end (not stopped at a cache's share or at shutdown).
    pub complete: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmUpState {
    /// Not configured, or its thread could not start.
    #[default]
    Off,
    Running,
    Done,
    Failed,
    /// A state this client does not know (a newer node's).
    #[serde(other)]
    Unknown,
}

/// One of the node's own caches (`[storage] state_cache_mib`, `tree_cache_mib`):
/// its bound, the bytes it holds as it weighs them, and its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCacheUsage {
    pub capacity_bytes: u64,
    pub usage_bytes: u64,
    pub entries: u64,
}

/// RocksDB's block cache: its bound (`[storage] block_cache_mib`) and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockCacheUsage {
    pub capacity_bytes: u64,
    pub usage_bytes: u64,
    /// Blocks that cannot be evicted now.
    pub pinned_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFamilyUsage {
    /// Live SST files on disk.
    pub sst_bytes: u64,
    /// Memtables in memory (not disk).
    pub memtable_bytes: u64,
}

/// `tx_submit`: the transaction was admitted to the mempool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub hash: Hash32,
}

/// One transaction of a `tx_submitBatch`: admitted, or refused with the error
/// `tx_submit` would have returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchOutcome {
    Admitted { hash: Hash32 },
    Refused { error: BatchRefusal },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRefusal {
    pub code: i32,
    pub message: String,
    pub data: Option<Refusal>,
}

impl BatchOutcome {
    /// The hash, if admitted.
    pub fn hash(&self) -> Option<Hash32> {
        match self {
            BatchOutcome::Admitted { hash } => Some(*hash),
            BatchOutcome::Refused { .. } => None,
        }
    }

    /// The stable reason, if refused.
    pub fn reason(&self) -> Option<&str> {
        match self {
            BatchOutcome::Admitted { .. } => None,
            BatchOutcome::Refused { error } => error.data.as_ref().map(|d| d.reason.as_str()),
        }
    }
}

/// Why a transaction was refused, dropped or rejected: a stable reason and words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: String,
    pub message: String,
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// In a block: `height`, `index` and `events` are set.
    Committed,
    /// Admitted, waiting in the mempool.
    Pending,
    /// Left the mempool without a block (`error` says why).
    Dropped,
    /// Refused by the rules when a block was built (`error` says why).
    Rejected,
}

/// `tx_get`: a transaction's status and, once committed, where and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    pub hash: Hash32,
    pub status: TxStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Refusal>,
}

impl TxInfo {
    pub fn is_committed(&self) -> bool {
        self.status == TxStatus::Committed
    }

    /// The events of a committed transaction (none otherwise).
    pub fn events(&self) -> &[Event] {
        self.events.as_deref().unwrap_or_default()
    }
}

/// `block_get`: a block with its hash, commit certificate and the evidence this
/// node saw at its height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    pub hash: Hash32,
    pub header: BlockHeader,
    pub txs: Vec<BlockTx>,
    /// `None` only for a block whose certificate the node has not stored yet.
    pub commit: Option<Commit>,
    pub evidence: Vec<Evidence>,
}

/// A transaction in a block, with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockTx {
    pub id: Hash32,
    #[serde(flatten)]
    pub tx: SignedTx,
}

/// `block_getRaw`: a block and its commit in canonical bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawBlock {
    pub height: u64,
    pub hash: Hash32,
    pub block: Bytes,
    pub commit: Bytes,
}

/// `snapshot_info`: the newest state snapshot a node serves, and its anchor (the
/// snapshot's block, its commit certificate and every validator-set change from
/// genesis, with proven state values; `tamga_verify::StateAnchor` in the
/// canonical encoding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub height: u64,
    pub anchor: Bytes,
}

/// `snapshot_chunk`: a page of a snapshot's state, keys in order, and the key
/// to ask after for the next page (`None` on the last).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChunk {
    pub height: u64,
    pub pairs: Vec<(Bytes, Bytes)>,
    pub next: Option<Bytes>,
}

/// `evidence_list`: equivocation evidence this node saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceList {
    pub evidence: Vec<Evidence>,
}

/// `record_history`: a page of a record's provenance, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHistory {
    pub record: Hash32,
    pub entries: Vec<ProvenanceEntry>,
}

/// Whose records `record_byOwner` lists: a subject, or a certified key standing
/// for the subject its certificate names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Subject(SubjectId),
    Key(PublicKey),
}

impl From<SubjectId> for Owner {
    fn from(id: SubjectId) -> Self {
        Owner::Subject(id)
    }
}

impl From<PublicKey> for Owner {
    fn from(key: PublicKey) -> Self {
        Owner::Key(key)
    }
}

impl Serialize for Owner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Owner::Subject(id) => id.serialize(s),
            Owner::Key(key) => key.serialize(s),
        }
    }
}

/// `record_byOwner`: a page of the records a subject owns, in id order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedRecords {
    pub owner: SubjectId,
    pub records: Vec<Record>,
    /// Pass as `after` for the next page; `None` on the last.
    pub next: Option<Hash32>,
}

/// `account_get`: the nonce the account's next transaction must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub public_key: PublicKey,
    pub next_nonce: u64,
}

/// `validators_get`: the set that governs `height` (the next), and a change
/// scheduled after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSet {
    pub height: u64,
    pub total_power: u64,
    pub validators: Vec<Validator>,
    pub scheduled: Option<ScheduledSet>,
}

/// `contract_instance`: an instance, the account that holds its assets, and
/// the hashes a party accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceView {
    #[serde(flatten)]
    pub instance: Instance,
    pub account: SubjectId,
    pub accept: AcceptHashes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptHashes {
    pub code_hash: Hash32,
    pub terms_hash: Hash32,
    pub init_args_hash: Hash32,
}

/// `contract_query`: the `query` export's output, and the same as text if UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryOutput {
    pub output: Bytes,
    pub text: Option<String>,
}

/// `record_certificate`, `doc_certificate`: a certificate file's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFile {
    pub format_version: u16,
    pub height: u64,
    pub certificate: Bytes,
}

/// `doc_get`: the signatures anchored to a document, as of `height` or later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentAnchors {
    pub hash: Hash32,
    pub height: u64,
    pub signatures: Vec<DocumentSignature>,
}

/// Which certificate `cert_status` asks about: by id, or a key's latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertRef {
    Certificate(Hash32),
    Key(PublicKey),
}

impl From<Hash32> for CertRef {
    fn from(id: Hash32) -> Self {
        CertRef::Certificate(id)
    }
}

impl From<PublicKey> for CertRef {
    fn from(key: PublicKey) -> Self {
        CertRef::Key(key)
    }
}

impl Serialize for CertRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CertRef::Certificate(id) => id.serialize(s),
            CertRef::Key(key) => key.serialize(s),
        }
    }
}

/// `cert_get`, `cert_status`: a certificate and its status at `at_height`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatus {
    pub certificate: Certificate,
    pub status: CertStatus,
    pub at_height: u64,
}

/// `cert_revocations`: a page of the revocation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocations {
    pub revocations: Vec<RevocationEntry>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<RevocationCursor>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    pub recorded_height: u64,
    pub certificate: Hash32,
    pub subject: SubjectId,
    pub key: PublicKey,
    pub revocation: Option<Revocation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationCursor {
    pub from_height: u64,
    pub after: Hash32,
}

/// `cert_bySubject`: a page of a subject's certificates with their status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectCertificates {
    pub subject: SubjectId,
    pub certificates: Vec<CertificateStatus>,
    pub next: Option<Hash32>,
}

/// The clear personal data `cert_issue` checks against a certificate's
/// commitments and keeps in the node's vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    /// The IIN or BIN; required for a subject the vault does not know.
    pub identifier: Option<String>,
    /// 32 bytes, hex; with `identifier`.
    pub identifier_salt: Option<String>,
    pub name: String,
    /// 32 bytes, hex.
    pub name_salt: String,
}

/// `cert_issue`: the transaction was admitted, for `subject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub hash: Hash32,
    pub subject: SubjectId,
}

/// `cert_identity`: what the node's vault knows of a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub subject: SubjectId,
    pub kind: SubjectKind,
    /// The IIN or BIN in clear.
    pub identifier: String,
    pub identifier_salt: String,
    pub identifier_commitment: Hash32,
    pub names: Vec<NameEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameEntry {
    pub name: String,
    pub salt: String,
    pub commitment: Hash32,
}

/// `cert_checkIdentifier`: whether an identifier and salt open a subject's
/// commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierCheck {
    pub subject: SubjectId,
    pub matches: bool,
}

/// A notification of `block_subscribe`: one committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockNotice {
    pub height: u64,
    pub hash: Hash32,
    pub time_ms: u64,
    pub state_root: Hash32,
    pub txs: Vec<Hash32>,
}

/// Results the runtime already types, named here for callers.
pub type ContractView = Contract;
