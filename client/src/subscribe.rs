//! `block_subscribe`: committed blocks as they land, over a WebSocket on the
//! node's RPC port (the HTTP client cannot hold a subscription).

use crate::{BlockNotice, Client, Error};
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};

/// A subscription to committed blocks; dropping it unsubscribes.
pub struct BlockSubscription {
    // Held so the connection lives as long as the subscription.
    _client: WsClient,
    blocks: Subscription<BlockNotice>,
}

impl Client {
    /// `block_subscribe`: a notification per committed block. A subscriber too
    /// slow to keep up misses blocks rather than slowing the node.
    pub async fn block_subscribe(&self) -> Result<BlockSubscription, Error> {
        let url = ws_url(self.url());
        let transport = |source| Error::Transport {
            method: "block_subscribe",
            url: url.clone(),
            source,
        };
        let client = WsClientBuilder::default()
            .build(&url)
            .await
            .map_err(transport)?;
        let blocks = client
            .subscribe("block_subscribe", rpc_params![], "block_unsubscribe")
            .await
            .map_err(|e| match e {
                jsonrpsee::core::client::Error::Call(e) => crate::RpcError::from(e).into(),
                other => transport(other),
            })?;
        Ok(BlockSubscription {
            _client: client,
            blocks,
        })
    }
}

impl BlockSubscription {
    /// The next committed block; an error once the connection has closed.
    pub async fn next(&mut self) -> Result<BlockNotice, Error> {
        match self.blocks.next().await {
            Some(Ok(notice)) => Ok(notice),
            Some(Err(e)) => Err(Error::Subscription(e.to_string())),
            None => Err(Error::Subscription("the node closed it".into())),
        }
    }
}

/// The WebSocket URL on the same port: `http://` becomes `ws://`.
fn ws_url(url: &str) -> String {
    match url.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => format!("ws://{url}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ws_url_keeps_host_and_port() {
        assert_eq!(super::ws_url("http://127.0.0.1:5"), "ws://127.0.0.1:5");
        assert_eq!(super::ws_url("127.0.0.1:5"), "ws://127.0.0.1:5");
    }
}
