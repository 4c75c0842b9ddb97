//! Where the CLI finds the node (`--rpc-url`, else the address the node in
//! `--home` wrote when it started, else the default) and the typed client it
//! talks to it with (crate `tamga-client`).

use super::Globals;
use anyhow::Result;

pub use tamga_client::{Client, RpcError};

/// File in the home where a running node writes its bound RPC address.
pub const RPC_ADDR_FILE: &str = "rpc.addr";

pub fn rpc_url(globals: &Globals) -> String {
    if let Some(url) = &globals.rpc_url {
        return url.clone();
    }
    if let Ok(addr) = std::fs::read_to_string(globals.home.0.join(RPC_ADDR_FILE)) {
        return format!("http://{}", addr.trim());
    }
    format!("http://{}", crate::config::DEFAULT_RPC_ADDR)
}

/// A client of the node these flags name.
pub fn connect(globals: &Globals) -> Result<Client> {
    Ok(Client::new(&rpc_url(globals))?)
}

/// The node's refusal inside `e`, if the node refused.
pub fn rpc_error(e: &anyhow::Error) -> Option<&RpcError> {
    e.downcast_ref::<RpcError>().or_else(|| {
        e.downcast_ref::<tamga_client::Error>()
            .and_then(tamga_client::Error::rpc)
    })
}
