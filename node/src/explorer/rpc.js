// JSON-RPC to the node that served this page (same origin), the live block
// subscription over a WebSocket on the same port, and refusals turned into
// plain sentences.
"use strict";

(function () {
  const CALL_TIMEOUT_MS = 15000;
  let nextId = 1;

  /** A refusal or a failure to reach the node. */
  class RpcError extends Error {
    constructor(code, reason, message) {
      super(message);
      this.code = code;
      this.reason = reason;
    }
  }
  T.RpcError = RpcError;

  /** Calls `method` with positional `params`; resolves to its result. */
  T.rpc = async function (method, params) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), CALL_TIMEOUT_MS);
    let response;
    try {
      response = await fetch("/", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
        signal: abort.signal,
      });
    } catch (e) {
      throw new RpcError(0, "transport", abort.signal.aborted ? "no answer in 15 seconds" : "the connection failed");
    } finally {
      clearTimeout(timer);
    }
    let body;
    try {
      body = await response.json();
    } catch (e) {
      throw new RpcError(0, "transport", `the node answered HTTP ${response.status} without JSON`);
    }
    if (body && body.error) {
      const data = body.error.data || {};
      throw new RpcError(body.error.code, data.reason || "", String(body.error.message || "refused"));
    }
    return body ? body.result : null;
  };

  T.isNotFound = function (e) {
    return e instanceof RpcError && (e.code === -32002 || /not_found/.test(e.reason));
  };

  /** A refusal as a sentence for people: `what` names what was asked for. */
  T.explain = function (e, what, id) {
    const thing = what || "item";
    if (T.isNotFound(e)) {
      return id !== undefined ? `There is no ${thing} ${id} on this chain.` : `There is no such ${thing} on this chain.`;
    }
    if (!(e instanceof RpcError)) return `Something went wrong showing this ${thing}: ${e && e.message}.`;
    if (e.reason === "transport") return `The node did not answer (${e.message}). Is it still running?`;
    if (e.code === -32602) return `That is not a valid ${thing}: ${e.message}.`;
    if (e.code === -32004) return "The node is busy right now; try again in a moment.";
    return `The node refused: ${e.message}.`;
  };

  // ---- live blocks ----
  const listeners = new Set();
  let socket = null;
  let retryMs = 1000;

  function indicator(text, ok) {
    const live = document.getElementById("live");
    if (!live) return;
    live.textContent = text;
    live.classList.toggle("ok", !!ok);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    try {
      socket = new WebSocket(`${scheme}//${location.host}/`);
    } catch (e) {
      indicator("Live blocks unavailable", false);
      return;
    }
    socket.onopen = () => {
      retryMs = 1000;
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "block_subscribe", params: [] }));
      indicator("Live", true);
    };
    socket.onmessage = (message) => {
      let body;
      try {
        body = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (!body || body.method !== "block" || !body.params) return;
      const block = body.params.result;
      if (!block || typeof block.height !== "number") return;
      indicator(`Live · height ${block.height}`, true);
      for (const listener of listeners) listener(block);
    };
    socket.onclose = () => {
      indicator("Reconnecting…", false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  /** Calls `listener` with each committed block's notice until the returned function is called. */
  T.onBlock = function (listener) {
    listeners.add(listener);
    if (!socket) connect();
    return () => listeners.delete(listener);
  };

  T.startLive = function () {
    if (!socket) connect();
  };
})();
