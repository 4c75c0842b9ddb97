//! The Tamga node: everything with I/O around the deterministic runtime — storage,
//! mempool, the block producer, JSON-RPC and the `tamga` command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod keyring;
pub mod mempool;
pub mod node;
pub mod producer;
pub mod rpc;
pub mod storage;
