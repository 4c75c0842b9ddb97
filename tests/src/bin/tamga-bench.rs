//! `tamga-bench`: throughput of a single-validator node beside the machine's own
//! limit, measured in the same run. Run it through `scripts/bench.sh`.
//!
//! * one-core limit: pre-signed transfers verified (ed25519) and applied to
//!   in-memory state on one thread, with no node around them;
//! * node: the same kind of transfers submitted over JSON-RPC (`tx_submitBatch`)
//!   to a real `tamga dev` process, counted when committed (the median of
//!   [`tamga_tests::scale::WINDOWS`] windows);
//! * contracts: committed `escrow-sale` calls per second on the same node, beside
//!   the sandbox's own instantiate + call rate for that module and the calls'
//!   one-core limit (both signatures verified, then the call, on one thread);
//! * certificates: the size of an ownership certificate for a record with a
//!   100-entry history, and the offline verifier's time per certificate;
//! * a large state (`tamga_tests::scale`): the state grown to RECORDS records,
//!   the same transfers on it (windows of other records) beside the small
//!   state's rate, disk bytes per transfer by column family, and query rates
//!   beside a bare jsonrpsee server.
//!
//! Usage: `tamga-bench [TRANSFERS] [BLOCK_TIME_MS] [CONTRACT_CALLS] [RECORDS]`.

use std::collections::BTreeMap;
use std::time::Instant;
use tamga_runtime::contracts::vm::limits;
use tamga_runtime::contracts::{ArbitrationClause, BlockFuel, CallEnv, Vm};
use tamga_runtime::records::Event;
use tamga_runtime::types::{verify_signature_reference, Bytes};
use tamga_runtime::types::{Payload, SignedTx, Transaction};
use tamga_runtime::{verify_tx_with, Hash32, HashedTx, PublicKey, SubjectId};
use tamga_tests::bench::{arg, fastest_of_passes, one_core_limit, one_core_node_verifier};
use tamga_tests::bench::{registrations, submit_all};
use tamga_tests::profile::Profile;
use tamga_tests::scale::growth::{record_of, sign_registrations};
use tamga_tests::scale::{rows, Windows};
use tamga_tests::{contract_wasm, Node};

const CHAIN: &str = "tamga-dev";

fn wait_committed(node: &Node, last: &SignedTx) {
    node.wait_tx(last.id());
}

// The small state's windows alternate direction: an odd number leaves its
// records bob's, as `transfers_section` says.
const _: () = assert!(tamga_tests::scale::WINDOWS % 2 == 1);

/// Records at the small state: the transfer workload's own, at least this many.
const SMALL_STATE: usize = 10_000;

/// Committed transfers per second beside the one-core verify+apply limit, at a
/// small state (`count` records, at least [`SMALL_STATE`]), the median of
/// [`tamga_tests::scale::WINDOWS`] windows. Returns the committed rate and the
/// registered records (the first `count` now bob's).
fn transfers_section(node: &Node, count: usize, block_time_ms: u64) -> (f64, Vec<Hash32>) {
    let limit = one_core_limit(node, CHAIN, count);
    let limit_node_verifier = one_core_node_verifier(node, CHAIN, count);

    // Setup (not timed): register the small state's records for alice.
    let registrar = node.key("registrar");
    let first = node.next_nonce(&PublicKey::of(&registrar));
    let small = count.max(SMALL_STATE);
    let setup = sign_registrations(CHAIN, &registrar, node.subject("alice"), first, small);
    submit_all(node, &setup);
    wait_committed(node, setup.last().unwrap());
    let records: Vec<Hash32> = setup.iter().map(record_of).collect();
    let done = node.client().tx_get(setup[0].id()).unwrap();
    let derived = match done.events() {
        [Event::Registered { record, .. }, ..] => Some(*record),
        _ => None,
    };
    assert_eq!(derived, Some(records[0]), "record ids derive as the node's");

    // The windows move the same records back and forth, so the small state
    // stays `small` records: alice to bob, bob to alice, alice to bob.
    let (alice, bob) = (node.key("alice"), node.key("bob"));
    let to = [node.subject("bob"), node.subject("alice")];
    let moved = &records[..count];
    let windows = Windows::run("transfers", node, CHAIN, |i| match i % 2 {
        0 => (&alice, moved, to[0]),
        _ => (&bob, moved, to[1]),
    });
    let run = windows.median();
    println!(
        "transfers:                    {count} (block time {block_time_ms} ms, {} cores, {small} records)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("one-core limit (verify+apply): {limit:>9.0} tx/s  (ed25519-dalek verify_strict)");
    println!(
        "  same, the node's verifier:    {limit_node_verifier:>9.0} tx/s  (same signatures; not the limit)"
    );
    println!("node admitted (RPC, verified):  {:>9.0} tx/s", run.admitted);
    println!(
        "node committed transfers:      {:>9.0} tx/s  ({})",
        run.committed,
        windows.rates()
    );
    println!(
        "ratio node / limit:            {:>9.3}  (target >= 0.85)",
        run.committed / limit
    );
    println!("where the time goes, µs per transfer: {}", run.stages);
    println!("{}", windows.flushed_line());
    (run.committed, records)
}

/// Signs `payloads` as `signer` with consecutive nonces, co-signed by `cosigner`.
fn signed_sequence(
    node: &Node,
    signer: &str,
    cosigner: &str,
    payloads: Vec<Payload>,
) -> Vec<SignedTx> {
    let (key, co) = (node.key(signer), node.key(cosigner));
    let first = node.next_nonce(&PublicKey::of(&key));
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            Transaction {
                chain_id: CHAIN.into(),
                signer: PublicKey::of(&key),
                nonce: first + i as u64,
                payload,
            }
            .sign(&key)
            .cosign(&co)
        })
        .collect()
}

/// Escrow init arguments with a deadline already past, so `reclaim` succeeds.
fn escrow_args(node: &Node) -> Vec<u8> {
    [
        node.subject("alice").0.as_slice(),
        &node.subject("bob").0,
        &[7; 32],
        &1000u64.to_le_bytes(),
        &0u64.to_le_bytes(),
    ]
    .concat()
}

/// The escrow module's `reclaim` in a sandbox of its own, with no node.
struct Sandbox {
    vm: Vm,
    hash: Hash32,
    parties: [SubjectId; 2],
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Sandbox {
    /// Compiled and called once (the warm-up): later calls find the module cached.
    /// The subjects are looked up here: `Node::subject` reads a key file and
    /// derives its public key, no part of a call (inside the timed loop it was
    /// most of one, until 2026-12-06).
    fn new(node: &Node, code: &[u8]) -> Sandbox {
        let sandbox = Sandbox {
            vm: Vm::new().expect("wasm engine"),
            hash: Hash32(*blake3::hash(code).as_bytes()),
            parties: [node.subject("alice"), node.subject("bob")],
            storage: [(b"args".to_vec(), escrow_args(node))].into(),
        };
        let fuel = BlockFuel::new(limits::FUEL_PER_CALL);
        let (vm, env) = (&sandbox.vm, sandbox.env());
        (vm.invoke(&sandbox.hash, || Some(code.to_vec()), "call", env, &fuel))
            .expect("warm-up call");
        sandbox
    }

    /// What a node's execution gives the call: alice reclaims, past the deadline.
    fn env(&self) -> CallEnv {
        CallEnv {
            caller: self.parties[0],
            parties: self.parties.to_vec(),
            height: 10,
            time_ms: 1,
            input: b"reclaim".to_vec(),
            storage: self.storage.clone(),
            holdings: vec![],
            read_only: false,
            condo: None,
        }
    }

    /// One instantiate + call, as a node's execution makes it.
    fn call(&self) {
        let fuel = BlockFuel::new(limits::FUEL_PER_CALL);
        (self
            .vm
            .invoke(&self.hash, || None, "call", self.env(), &fuel))
        .expect("escrow reclaim succeeds");
    }

    /// Instantiate + call per second: the fastest of [`tamga_tests::bench::LIMIT_PASSES`] windows of
    /// [`SANDBOX_WINDOW_CALLS`] calls, and each window's rate.
    fn rate(&self) -> (f64, String) {
        let window = |()| (0..SANDBOX_WINDOW_CALLS).for_each(|_| self.call());
        fastest_of_passes(SANDBOX_WINDOW_CALLS, || (), window)
    }

    /// The calls' one-core limit, as the transfers' is verify + apply: each
    /// transaction's signatures checked as that limit checks them
    /// (`verify_strict`, signer and cosigner) and its call made, on one
    /// thread. The rest of applying a call (loading the instance, writing its
    /// storage and events) is left out, so this reads higher than a whole
    /// verify + apply would. The fastest of [`tamga_tests::bench::LIMIT_PASSES`] passes over `txs` (each
    /// pass's copy made before its clock starts), and each pass's.
    fn verify_and_call_rate(&self, txs: &[SignedTx]) -> (f64, String) {
        let pass = |txs: Vec<SignedTx>| {
            for tx in txs {
                let hashed = HashedTx::new(tx);
                verify_tx_with(hashed, CHAIN, verify_signature_reference).expect("valid");
                self.call();
            }
        };
        fastest_of_passes(txs.len(), || txs.to_vec(), pass)
    }
}

/// Calls in one window of the sandbox's own rate: at about 5 µs a call, a
/// quarter of a second.
const SANDBOX_WINDOW_CALLS: usize = 50_000;

/// Committed escrow calls per second beside the sandbox's own rate.
fn contracts_section(node: &Node, calls: usize) {
    let code = std::fs::read(contract_wasm("escrow-sale")).expect("escrow-sale.wasm");
    let sandbox = Sandbox::new(node, &code);
    let (raw, windows) = sandbox.rate();
    let arbitration = ArbitrationClause {
        arbiters: vec![node.subject("arbiter1")],
        quorum: 1,
        deadline_blocks: 10,
        appeal: None,
    };
    let deploy = signed_sequence(
        node,
        "alice",
        "bob",
        vec![Payload::Deploy {
            code: Bytes(code),
            terms: "Escrow sale.".into(),
            arbitration,
        }],
    );
    submit_all(node, &deploy);
    let done = node.wait_tx(deploy[0].id());
    let Some(Event::ContractDeployed { contract, .. }) = done.events().first().cloned() else {
        panic!("no contract deployed: {done:?}")
    };
    // Setup (not timed): `calls` instances, each accepted by both parties.
    let parties = vec![node.subject("alice"), node.subject("bob")];
    let init = (0..calls)
        .map(|_| Payload::Instantiate {
            contract,
            parties: parties.clone(),
            init_args: Bytes(escrow_args(node)),
        })
        .collect();
    let setup = signed_sequence(node, "alice", "bob", init);
    submit_all(node, &setup);
    wait_committed(node, setup.last().unwrap());
    let instances: Vec<Hash32> = setup
        .iter()
        .map(|tx| match node.client().tx_get(tx.id()).unwrap().events() {
            [Event::InstanceProposed { instance, .. }, ..] => *instance,
            other => panic!("no instance proposed: {other:?}"),
        })
        .collect();
    let reclaims = instances
        .into_iter()
        .map(|instance| Payload::Call {
            instance,
            input: Bytes(b"reclaim".to_vec()),
        })
        .collect();
    let txs = signed_sequence(node, "alice", "bob", reclaims);
    let (limit, passes) = sandbox.verify_and_call_rate(&txs);
    let profile = Profile::start("escrow");
    let started = Instant::now();
    submit_all(node, &txs);
    wait_committed(node, txs.last().unwrap());
    let node_rate = calls as f64 / started.elapsed().as_secs_f64();
    drop(profile);
    println!("escrow calls:                  {calls}");
    println!(
        "sandbox instantiate+call:      {raw:>9.0} calls/s (same module, no node; fastest of {windows})"
    );
    println!(
        "one-core verify+call limit:    {limit:>9.0} calls/s (both signatures, verify_strict, + the call, not the rest of apply; fastest of {passes})"
    );
    println!("node committed escrow calls:   {node_rate:>9.0} calls/s");
    println!(
        "node time per call / sandbox:  {:>9.3}x (target <= 1.8x)",
        raw / node_rate
    );
    println!(
        "node / verify+call limit:      {:>9.3}  (the calls' counterpart of the transfers' ratio)",
        node_rate / limit
    );
}

/// Signs each payload as `signer` with consecutive nonces, co-signed by `cosigners`.
fn signed_by(node: &Node, signer: &str, cosigners: &[&str], payloads: &[Payload]) -> Vec<SignedTx> {
    let key = node.key(signer);
    let first = node.next_nonce(&PublicKey::of(&key));
    let payloads = payloads.iter().enumerate();
    payloads
        .map(|(i, payload)| {
            let tx = Transaction {
                chain_id: CHAIN.into(),
                signer: PublicKey::of(&key),
                nonce: first + i as u64,
                payload: payload.clone(),
            };
            let signed = tx.sign(&key);
            cosigners
                .iter()
                .fold(signed, |tx, c| tx.cosign(&node.key(c)))
        })
        .collect()
}

/// A record with a 100-entry history (registered, then 50 leases to bob and 49
/// releases), its certificate's size, and the offline verifier's time for it.
fn certificates_section(node: &Node) {
    let first = node.next_nonce(&PublicKey::of(&node.key("registrar")));
    let setup = registrations(
        CHAIN,
        &node.key("registrar"),
        node.subject("alice"),
        1,
        first,
    );
    submit_all(node, &setup);
    wait_committed(node, &setup[0]);
    let done = node.client().tx_get(setup[0].id()).unwrap();
    let Some(Event::Registered { record, .. }) = done.events().first().cloned() else {
        panic!("no record registered: {done:?}")
    };
    let holder = node.subject("bob");
    let kind = tamga_runtime::types::EncumbranceKind::Lease;
    for id in 1..=50u32 {
        let lease = Payload::Encumber {
            record,
            kind,
            holder,
            document: None,
        };
        let lease = signed_by(node, "alice", &["bob"], &[lease]);
        submit_all(node, &lease);
        wait_committed(node, &lease[0]);
        if id < 50 {
            let release = signed_by(
                node,
                "bob",
                &[],
                &[Payload::Release {
                    record,
                    encumbrance: id,
                }],
            );
            submit_all(node, &release);
            wait_committed(node, &release[0]);
        }
    }
    let answer = node.client().record_certificate(record, None).unwrap();
    let bytes = answer.certificate.0;
    let genesis = std::fs::read(node.home.join("genesis.json")).unwrap();
    let genesis: tamga_runtime::Genesis = serde_json::from_slice(&genesis).unwrap();
    let verified = tamga_verify::verify_bytes(&bytes, &genesis).expect("the certificate verifies");
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        tamga_verify::verify_bytes(&bytes, &genesis).expect("the certificate verifies");
    }
    let per_cert_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let entries = match &verified.finding {
        tamga_verify::report::Finding::Record(r) => r.provenance.as_ref().map_or(0, |p| p.total),
        _ => 0,
    };
    println!(
        "certificate, {entries}-entry history: {:>7} bytes",
        bytes.len()
    );
    println!("offline verify per certificate:   {per_cert_us:>7.0} us (one core, {rounds} rounds)");
}

fn main() {
    let (count, block_time_ms, calls) =
        (arg(1, 20_000) as usize, arg(2, 100), arg(3, 5_000) as usize);
    let large = arg(4, 1_000_000) as usize;
    assert!(
        (1..=20_000).contains(&count),
        "transfers must be 1..=20000 (the default mempool bound)"
    );
    assert!(
        (1..=20_000).contains(&calls),
        "contract calls must be 1..=20000 (the default mempool bound)"
    );
    let least = 2 * count.max(SMALL_STATE) + tamga_tests::scale::WINDOWS * count;
    assert!(
        large >= least,
        "records must be at least {least}: twice the small state ({}) and {} windows of {count} new records to move",
        count.max(SMALL_STATE),
        tamga_tests::scale::WINDOWS
    );
    // One signer submits the whole workload: lift the per-signer quota to the
    // mempool's size (the benchmark measures throughput, not fairness).
    let quota = ["--mempool-signer-txs-max", "20000"];
    let mut node = Node::dev_with(block_time_ms, &quota);
    let (small_rate, small) = transfers_section(&node, count, block_time_ms);
    contracts_section(&node, calls);
    println!();
    certificates_section(&node);
    println!();
    let state = rows::large_state(&node, CHAIN, count, &small, small_rate, large);
    println!();
    rows::queries(&node, &state);
    println!();
    tamga_tests::scale::join::snapshot_join(&node, large);
    println!();
    let flags = (block_time_ms, &quota[..]);
    tamga_tests::scale::restart::restart(&mut node, flags, CHAIN, &state, count);
}
