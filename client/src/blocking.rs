//! The same functions for synchronous callers (the test harness, scripts): each
//! runs the async call on a small runtime the client owns and waits for it.
//! Do not use it from inside an async runtime; use [`crate::Client`] there.

use crate::{BlockNotice, BlockSubscription, Error};
use std::time::Duration;

/// A blocking client of one node. Calls may come from several threads at once.
#[derive(Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    /// A client of the node at `url`, with the default timeout.
    pub fn new(url: &str) -> Result<Self, Error> {
        Client::with_timeout(url, crate::REQUEST_TIMEOUT)
    }

    /// A client whose calls give up after `timeout`.
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        // One worker drives the connections; each call runs on its caller's thread.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tamga-client")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let inner = runtime.block_on(async { crate::Client::with_timeout(url, timeout) })?;
        Ok(Client { inner, runtime })
    }

    /// The async client underneath.
    pub fn inner(&self) -> &crate::Client {
        &self.inner
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, call: F) -> F::Output {
        self.runtime.block_on(call)
    }

    /// `block_subscribe`, waited on: see [`crate::Client::block_subscribe`].
    pub fn block_subscribe(&self) -> Result<Blocks<'_>, Error> {
        let subscription = self.block_on(self.inner.block_subscribe())?;
        Ok(Blocks {
            client: self,
            subscription,
        })
    }
}

/// Committed blocks as a blocking subscription hears them.
pub struct Blocks<'a> {
    client: &'a Client,
    subscription: BlockSubscription,
}

impl Blocks<'_> {
    /// The next committed block, waiting at most `timeout`.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<BlockNotice, Error> {
        let next = self.subscription.next();
        let waited = self
            .client
            .block_on(async { tokio::time::timeout(timeout, next).await });
        waited.map_err(|_| Error::Subscription(format!("no block in {timeout:?}")))?
    }
}
