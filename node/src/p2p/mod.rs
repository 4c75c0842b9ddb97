//! The libp2p swarms this node owns. Consensus runs on Malachite's own swarm
//! (`consensus/`); this module carries what consensus does not: transactions, so
//! one sent to any node reaches every proposer.

pub mod gossip;
pub mod outgoing;
pub mod publisher;
pub mod unsent;
