//! The Tamga node: everything with I/O around the deterministic runtime — storage,
//! mempool, consensus, peer-to-peer gossip, JSON-RPC and the `tamga` command line.

pub mod app;
pub mod certify;
pub mod cli;
pub mod clock;
pub mod config;
pub mod consensus;
pub mod devnet;
pub mod explorer;
pub mod keyring;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod p2p;
pub mod progress;
pub mod rpc;
pub mod snapshots;
pub mod stages;
pub mod state_sync;
pub mod storage;
pub mod vault;
