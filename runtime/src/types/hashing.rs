//! Domain-separated blake3 hashing: each kind of thing hashed has its own context
//! string, so a hash of one kind can never be passed off as a hash of another.

use super::Hash32;
use blake3::hazmat::{self, ContextKey, HasherExt};
use std::sync::OnceLock;

/// Signing hash of a transaction; also its id.
pub static DOMAIN_TX: Domain = Domain::new("tamga 2026 tx v1");
/// Hash of a block header; also the block's id.
pub static DOMAIN_BLOCK: Domain = Domain::new("tamga 2026 block header v1");
/// Commitment to the ordered, fully signed transactions of a block.
pub static DOMAIN_TXS: Domain = Domain::new("tamga 2026 block txs v2");
/// One transaction with all its signatures, as a block carries it.
pub static DOMAIN_SIGNED_TX: Domain = Domain::new("tamga 2026 signed tx v1");
/// Id of a newly registered record.
pub static DOMAIN_RECORD_ID: Domain = Domain::new("tamga 2026 record id v1");
/// Id of a record split off a fungible holding by a partial transfer.
pub static DOMAIN_SPLIT_ID: Domain = Domain::new("tamga 2026 record split id v1");
/// Id of a fungible class.
pub static DOMAIN_CLASS_ID: Domain = Domain::new("tamga 2026 class id v1");
/// What a validator signs when it votes (a precommit for a block is its commit).
pub static DOMAIN_VOTE: Domain = Domain::new("tamga 2026 vote v1");
/// What a proposer signs when it proposes a block in a round.
pub static DOMAIN_PROPOSAL: Domain = Domain::new("tamga 2026 proposal v1");
/// Id of a certificate.
pub static DOMAIN_CERT_ID: Domain = Domain::new("tamga 2026 certificate id v1");
/// Salted commitment to an IIN or BIN (Art. 41: no identifier in clear).
pub static DOMAIN_IDENTIFIER: Domain = Domain::new("tamga 2026 identifier commitment v1");
/// Salted commitment to a holder's name.
pub static DOMAIN_NAME: Domain = Domain::new("tamga 2026 name commitment v1");
/// A subject's id, from its identifier commitment.
pub static DOMAIN_SUBJECT: Domain = Domain::new("tamga 2026 subject id v1");
/// Id of a digital condominium.
pub static DOMAIN_CONDO_ID: Domain = Domain::new("tamga 2026 condominium id v1");
/// Id of a participation record (a condominium share).
pub static DOMAIN_SHARE_ID: Domain = Domain::new("tamga 2026 condominium share id v1");
/// Hash of a condominium's agreement text.
pub static DOMAIN_AGREEMENT: Domain = Domain::new("tamga 2026 condominium agreement v1");
/// A chain's genesis file: the chain's identity.
pub static DOMAIN_GENESIS: Domain = Domain::new("tamga 2026 genesis v1");
/// One entry of a record's provenance, as its running digest absorbs it.
pub static DOMAIN_PROVENANCE_ENTRY: Domain = Domain::new("tamga 2026 provenance entry v1");
/// A record's running provenance digest: previous digest, then the entry's hash.
pub static DOMAIN_PROVENANCE: Domain = Domain::new("tamga 2026 provenance v1");
/// The authenticated state tree's nodes (`tamga_verify::tree`).
pub static DOMAIN_STATE_TREE: Domain = Domain::new("tamga 2026 state tree v1");
/// Key hashes in the authenticated state tree.
pub static DOMAIN_STATE_KEY: Domain = Domain::new("tamga 2026 state key v1");

/// A context string whose derive-key context hash is computed once.
///
/// Why: `blake3::Hasher::new_derive_key` hashes its context string on every call,
/// one compression more on top of what is hashed: a state-tree node's hash
/// (jmt hashes up to 15 per internal node it changes) is two compressions, an
/// id from a transaction's id one, a transaction's id about three. blake3's
/// `hazmat` gives the same hasher from the context's hash, kept here (checked
/// for every domain in `a_domain_hashes_as_its_context_string`).
pub struct Domain {
    context: &'static str,
    key: OnceLock<ContextKey>,
}

impl Domain {
    pub const fn new(context: &'static str) -> Self {
        Domain {
            context,
            key: OnceLock::new(),
        }
    }

    /// The context string, as `blake3::derive_key` takes it.
    pub fn context(&self) -> &'static str {
        self.context
    }

    /// A hasher in derive-key mode for this context.
    pub fn hasher(&self) -> blake3::Hasher {
        let key = (self.key).get_or_init(|| hazmat::hash_derive_key_context(self.context));
        blake3::Hasher::new_from_context_key(key)
    }
}

/// What [`hash`] takes as its domain: a [`Domain`] (the ledger's hot ones), or a
/// context string (rare ones, hashed on each call).
pub trait Context {
    fn hasher(&self) -> blake3::Hasher;
}

impl Context for Domain {
    fn hasher(&self) -> blake3::Hasher {
        Domain::hasher(self)
    }
}

impl Context for str {
    fn hasher(&self) -> blake3::Hasher {
        blake3::Hasher::new_derive_key(self)
    }
}

/// Hashes `parts` in order under `domain`. Each part is length-prefixed so that
/// ("ab","c") and ("a","bc") hash differently.
pub fn hash<D: Context + ?Sized>(domain: &D, parts: &[&[u8]]) -> Hash32 {
    let mut hasher = domain.hasher();
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    Hash32(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached context hash gives exactly `new_derive_key`'s hasher, for
    /// every domain: ids, signatures and state roots depend on it.
    #[test]
    fn a_domain_hashes_as_its_context_string() {
        let domains = [
            &DOMAIN_TX,
            &DOMAIN_BLOCK,
            &DOMAIN_TXS,
            &DOMAIN_SIGNED_TX,
            &DOMAIN_RECORD_ID,
            &DOMAIN_SPLIT_ID,
            &DOMAIN_CLASS_ID,
            &DOMAIN_VOTE,
            &DOMAIN_PROPOSAL,
            &DOMAIN_CERT_ID,
            &DOMAIN_IDENTIFIER,
            &DOMAIN_NAME,
            &DOMAIN_SUBJECT,
            &DOMAIN_CONDO_ID,
            &DOMAIN_SHARE_ID,
            &DOMAIN_AGREEMENT,
            &DOMAIN_GENESIS,
            &DOMAIN_PROVENANCE_ENTRY,
            &DOMAIN_PROVENANCE,
            &DOMAIN_STATE_TREE,
            &DOMAIN_STATE_KEY,
        ];
        let long = [7u8; 3000];
        for domain in domains {
            for parts in [&[][..], &[&b""[..]], &[&b"x"[..], &long[..]]] {
                // Twice: the first call computes the context hash, the second reuses it.
                for _ in 0..2 {
                    assert_eq!(hash(domain, parts), hash(domain.context(), parts));
                }
            }
            let derived = blake3::derive_key(domain.context(), b"tamga");
            let mut hasher = domain.hasher();
            hasher.update(b"tamga");
            assert_eq!(
                *hasher.finalize().as_bytes(),
                derived,
                "{}",
                domain.context()
            );
        }
    }

    #[test]
    fn domains_and_boundaries_separate() {
        assert_ne!(hash(&DOMAIN_TX, &[b"x"]), hash(&DOMAIN_BLOCK, &[b"x"]));
        assert_ne!(
            hash(&DOMAIN_TX, &[b"ab", b"c"]),
            hash(&DOMAIN_TX, &[b"a", b"bc"])
        );
        assert_eq!(hash(&DOMAIN_TX, &[b"x"]), hash(&DOMAIN_TX, &[b"x"]));
    }
}
