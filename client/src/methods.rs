//! One function per JSON-RPC method, written once: the `methods!` macro makes
//! each the async [`Client`] function shown here and the [`blocking::Client`]
//! function of the same name that waits for it. Each body names the node's
//! method and its positional parameters, in the node's order.
//!
//! [`blocking::Client`]: crate::blocking::Client

use crate::types::*;
use crate::{Client, CondoView, Error, OffersPage, Params, ProposalsPage};
use tamga_runtime::contracts::Contract;
use tamga_runtime::pki::Subject;
use tamga_runtime::records::Record;
use tamga_runtime::types::{encoding, Bytes, SignedTx};
use tamga_runtime::{Hash32, PublicKey, SubjectId};

macro_rules! methods {
    ($(
        $(#[doc = $doc:expr])*
        fn $name:ident(&$this:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty $body:block
    )*) => {
        impl Client {
            $(
                $(#[doc = $doc])*
                pub async fn $name(&$this $(, $arg: $ty)*) -> Result<$ret, Error> $body
            )*
        }
        impl crate::blocking::Client {
            $(
                $(#[doc = $doc])*
                pub fn $name(&$this $(, $arg: $ty)*) -> Result<$ret, Error> {
                    $this.block_on($this.inner().$name($($arg),*))
                }
            )*
        }
    };
}

fn tx_hex(tx: &SignedTx) -> String {
    hex::encode(encoding::encode(tx))
}

methods! {
    /// `node_status`: chain id, height, hashes, mempool size, stage timings.
    fn node_status(&self) -> NodeStatus {
        self.call("node_status", Params::new()).await
    }

    /// `node_storage`: RocksDB's bytes per column family, the WAL, compaction,
    /// and the block cache's and the node's own caches' use.
    fn node_storage(&self) -> StorageUsage {
        self.call("node_storage", Params::new()).await
    }

    /// `rpc.discover`: the OpenRPC document describing every method the node
    /// serves. It is a JSON Schema-laden document whose shape is the OpenRPC
    /// specification's, not the ledger's, so it is returned as JSON.
    fn rpc_discover(&self) -> serde_json::Value {
        self.call("rpc.discover", Params::new()).await
    }

    /// `tx_submit`: admits a signed transaction to the mempool.
    fn tx_submit(&self, tx: &SignedTx) -> Submitted {
        self.call("tx_submit", Params::new().with(tx_hex(tx))?).await
    }

    /// `tx_submit` with a transaction's canonical bytes as they are (a signed
    /// transaction from a file, or bytes that may not decode at all: the node
    /// refuses those as `tx.malformed`).
    fn tx_submit_encoded(&self, encoded: &[u8]) -> Submitted {
        self.call("tx_submit", Params::new().with(hex::encode(encoded))?).await
    }

    /// `tx_submitBatch`: admits up to 1000 transactions; each is admitted or
    /// refused on its own.
    fn tx_submit_batch(&self, txs: &[SignedTx]) -> Vec<BatchOutcome> {
        let hexes: Vec<String> = txs.iter().map(tx_hex).collect();
        self.call("tx_submitBatch", Params::new().with(hexes)?).await
    }

    /// `tx_get`: a transaction's status; height, index and events once committed.
    fn tx_get(&self, hash: Hash32) -> TxInfo {
        self.call("tx_get", Params::new().with(hash)?).await
    }

    /// `block_get`: the block at `height` (the latest if `None`) with its
    /// commit certificate.
    fn block_get(&self, height: Option<u64>) -> BlockView {
        self.call("block_get", Params::new().with(height)?).await
    }

    /// `block_getRaw`: a block and its commit in canonical bytes.
    fn block_get_raw(&self, height: u64) -> RawBlock {
        self.call("block_getRaw", Params::new().with(height)?).await
    }

    /// `snapshot_info`: the newest state snapshot the node serves.
    fn snapshot_info(&self) -> SnapshotInfo {
        self.call("snapshot_info", Params::new()).await
    }

    /// `snapshot_chunk`: the page of the snapshot at `height` after key `after`
    /// (from the first key when `None`).
    fn snapshot_chunk(&self, height: u64, after: Option<Bytes>) -> StateChunk {
        self.call("snapshot_chunk", Params::new().with(height)?.with(after)?).await
    }

    /// `evidence_list`: equivocation evidence seen at heights `from..=to`.
    fn evidence_list(&self, from: Option<u64>, to: Option<u64>, limit: Option<u64>) -> EvidenceList {
        let params = Params::new().with(from)?.with(to)?.with(limit)?;
        self.call("evidence_list", params).await
    }

    /// `record_get`: a record (`not_found.record` if there is none).
    fn record_get(&self, id: Hash32) -> Record {
        self.call("record_get", Params::new().with(id)?).await
    }

    /// `record_history`: a record's provenance, oldest first, `skip`ping some.
    fn record_history(&self, id: Hash32, skip: Option<u64>, limit: Option<u64>) -> RecordHistory {
        let params = Params::new().with(id)?.with(skip)?.with(limit)?;
        self.call("record_history", params).await
    }

    /// `record_byOwner`: the records a subject (or the subject a certified key
    /// speaks for) owns, in id order, after `after`.
    fn record_by_owner(&self, owner: impl Into<Owner>, after: Option<Hash32>, limit: Option<u64>) -> OwnedRecords {
        let params = Params::new().with(owner.into())?.with(after)?.with(limit)?;
        self.call("record_byOwner", params).await
    }

    /// `account_get`: an account's next nonce, counting pending transactions.
    fn account_get(&self, key: PublicKey) -> Account {
        self.call("account_get", Params::new().with(key)?).await
    }

    /// `validators_get`: the set for the next height and any scheduled change.
    fn validators_get(&self) -> ValidatorSet {
        self.call("validators_get", Params::new()).await
    }

    /// `condo_get`: a digital condominium (`condo.not_found` if there is none).
    fn condo_get(&self, id: Hash32) -> CondoView {
        self.call("condo_get", Params::new().with(id)?).await
    }

    /// `condo_proposals`: proposals numbered after `after` (at most 100).
    fn condo_proposals(&self, id: Hash32, after: Option<u64>, limit: Option<u64>) -> ProposalsPage {
        let params = Params::new().with(id)?.with(after)?.with(limit)?;
        self.call("condo_proposals", params).await
    }

    /// `condo_offers`: share offers numbered after `after` (at most 100).
    fn condo_offers(&self, id: Hash32, after: Option<u64>, limit: Option<u64>) -> OffersPage {
        let params = Params::new().with(id)?.with(after)?.with(limit)?;
        self.call("condo_offers", params).await
    }

    /// `contract_get`: a deployed contract, its terms and arbitration clause.
    fn contract_get(&self, id: Hash32) -> Contract {
        self.call("contract_get", Params::new().with(id)?).await
    }

    /// `contract_instance`: an instance with the hashes a party accepts.
    fn contract_instance(&self, id: Hash32) -> InstanceView {
        self.call("contract_instance", Params::new().with(id)?).await
    }

    /// `contract_query`: runs the instance's `query` export on `input`,
    /// read-only, as `caller` (nobody if `None`).
    fn contract_query(&self, instance: Hash32, input: &[u8], caller: Option<SubjectId>) -> QueryOutput {
        let params = Params::new().with(instance)?.with(hex::encode(input))?.with(caller)?;
        self.call("contract_query", params).await
    }

    /// `record_certificate`: a certificate of the record's state at `height`
    /// (the tip if `None`), or that no record has this id.
    fn record_certificate(&self, id: Hash32, height: Option<u64>) -> CertificateFile {
        self.call("record_certificate", Params::new().with(id)?.with(height)?).await
    }

    /// `doc_get`: the signatures anchored to the document with this blake3 hash.
    fn doc_get(&self, hash: Hash32) -> DocumentAnchors {
        self.call("doc_get", Params::new().with(hash)?).await
    }

    /// `doc_certificate`: a certificate of a document's anchored signatures.
    fn doc_certificate(&self, hash: Hash32, height: Option<u64>) -> CertificateFile {
        self.call("doc_certificate", Params::new().with(hash)?.with(height)?).await
    }

    /// `cert_get`: a certificate and its status now.
    fn cert_get(&self, id: Hash32) -> CertificateStatus {
        self.call("cert_get", Params::new().with(id)?).await
    }

    /// `cert_status`: a certificate's (or a key's certificate's) status at
    /// `height` (the next block's if `None`).
    fn cert_status(&self, what: impl Into<CertRef>, height: Option<u64>) -> CertificateStatus {
        self.call("cert_status", Params::new().with(what.into())?.with(height)?).await
    }

    /// `cert_revocations`: the revocation list from `from_height`, after `after`.
    fn cert_revocations(&self, from_height: Option<u64>, limit: Option<u64>, after: Option<Hash32>) -> Revocations {
        let params = Params::new().with(from_height)?.with(limit)?.with(after)?;
        self.call("cert_revocations", params).await
    }

    /// `cert_bySubject`: a subject's certificates with their status.
    fn cert_by_subject(&self, subject: SubjectId, after: Option<Hash32>, limit: Option<u64>) -> SubjectCertificates {
        let params = Params::new().with(subject)?.with(after)?.with(limit)?;
        self.call("cert_bySubject", params).await
    }

    /// `subject_get`: a subject's kind, identifier commitment and erasure.
    fn subject_get(&self, subject: SubjectId) -> Subject {
        self.call("subject_get", Params::new().with(subject)?).await
    }

    /// `cert_issue`: checks a certificate issue against its clear data, keeps
    /// the data in the node's vault and submits it (`token`: the node's
    /// `[vault] api_token`).
    fn cert_issue(&self, tx: &SignedTx, personal: &PersonalData, token: &str) -> Issued {
        let params = Params::new().with(tx_hex(tx))?.with(personal)?.with(token)?;
        self.call("cert_issue", params).await
    }

    /// `cert_identity`: the clear identifier and names the node's vault holds.
    fn cert_identity(&self, subject: SubjectId, token: &str) -> Identity {
        self.call("cert_identity", Params::new().with(subject)?.with(token)?).await
    }

    /// `cert_checkIdentifier`: whether `identifier` and its salt open the
    /// subject's identifier commitment.
    fn cert_check_identifier(&self, subject: SubjectId, identifier: &str, salt_hex: &str) -> IdentifierCheck {
        let params = Params::new().with(subject)?.with(identifier)?.with(salt_hex)?;
        self.call("cert_checkIdentifier", params).await
    }
}
