//! The CLI (`node/src/cli/`) and the test suite (`tests/`) talk to a node only
//! through the typed client (crate `tamga-client`): none of their files builds a
//! JSON-RPC body or calls a method by its name string. The few files that test
//! the protocol itself (malformed or oversized bodies, wrong-typed parameters)
//! or serve a method (the benchmark's bare server) are listed in [`ALLOWED`],
//! each with its reason. The method names are read from the node's own
//! registrations, so a method added there is covered here without an edit.

use std::path::{Path, PathBuf};

/// Files allowed to write JSON-RPC by hand, relative to the repository root.
const ALLOWED: [(&str, &str); 4] = [
    (
        "tests/tests/rpc.rs",
        "tests the protocol: malformed JSON, unknown methods, wrong-typed params, oversized bodies",
    ),
    (
        "tests/tests/metrics.rs",
        "calls a method the node does not serve, to check it never becomes a metric label",
    ),
    (
        "tests/src/scale/query.rs",
        "the benchmark's bare jsonrpsee server serves `record_get` by name",
    ),
    (
        "tests/tests/typed_client_only.rs",
        "this check names what it looks for",
    ),
];

/// Code that builds a JSON-RPC request or calls a method by name.
const HAND_BUILT: [&str; 9] = [
    "\"jsonrpc\"",
    "\\\"jsonrpc\\\"",
    ".rpc(\"",
    ".call(\"",
    ".request(\"",
    ".request::<",
    "rpc_params!",
    "ArrayParams",
    ".subscribe::<",
];

fn root() -> PathBuf {
    tamga_tests::repo_root()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every method name the node registers: each registration carries its
/// definition, `MethodDef::new("name", ...)` (`rpc/spec.rs`), or names a
/// constant such as `rpc.discover`'s (`pub const DISCOVER: &str = "..."`).
fn served_methods() -> Vec<String> {
    let mut files = vec![];
    rust_files(&root().join("node/src/rpc"), &mut files);
    let mut names = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for pattern in ["MethodDef::new(", "pub const DISCOVER: &str ="] {
            for (i, _) in text.match_indices(pattern) {
                let rest = text[i + pattern.len()..].trim_start();
                if rest.starts_with('"') {
                    names.extend(quoted_after(rest));
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The first string literal in `text`.
fn quoted_after(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_owned())
}

/// Each hand-built call in `text`: (line number, what was found).
fn findings(text: &str, methods: &[String]) -> Vec<(usize, String)> {
    let mut found = vec![];
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for pattern in HAND_BUILT {
            if code.contains(pattern) {
                found.push((n + 1, pattern.to_owned()));
            }
        }
        for method in methods {
            let quoted = format!("\"{method}\"");
            // A method's name as a panic message (`.expect("tx_get")`) calls nothing.
            let called = code
                .match_indices(&quoted)
                .any(|(i, _)| !code[..i].ends_with("expect("));
            if called {
                found.push((n + 1, format!("method name {quoted}")));
            }
        }
    }
    found
}

#[test]
fn the_cli_and_the_tests_call_the_node_only_through_the_typed_client() {
    let root = root();
    let methods = served_methods();
    assert!(
        methods.len() >= 30 && methods.iter().any(|m| m == "record_get"),
        "the node's method registrations were not found: {methods:?}"
    );
    let mut files = vec![];
    rust_files(&root.join("node/src/cli"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.len() > 30, "too few files scanned: {}", files.len());
    let mut offenders = vec![];
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the root");
        let relative = relative.to_string_lossy();
        if ALLOWED.iter().any(|(allowed, _)| *allowed == relative) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for (line, what) in findings(&text, &methods) {
            offenders.push(format!("{relative}:{line}: {what}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "JSON-RPC written by hand outside tamga-client (use its typed functions, \
         or tamga_tests::post_raw_jsonrpc in a protocol test listed in ALLOWED):\n{}",
        offenders.join("\n")
    );
}

/// The check itself catches what it is for, and passes the typed calls.
#[test]
fn the_check_finds_hand_built_calls() {
    let methods = vec!["record_get".to_owned(), "tx_submit".to_owned()];
    let hand_built = [
        r#"let r = node.rpc("record_get", json!([id]));"#,
        r#"client.call("tx_submit", vec![json!(tx_hex)]).await?;"#,
        r#"let body = json!({ "jsonrpc": "2.0", "id": 1, "method": m, "params": p });"#,
        r#"let (m, p) = ("record_get", vec![json!(id)]);"#,
        r#"client.subscribe::<Value, _>(name, rpc_params![], unsub)"#,
    ];
    for line in hand_built {
        assert!(!findings(line, &methods).is_empty(), "missed: {line}");
    }
    let typed = [
        "let r = node.client().record_get(id).unwrap();",
        "// node.rpc(\"record_get\") in a comment",
        "assert!(error.rpc().unwrap().message.contains(\"stack\"));",
        "let done = node.client().tx_get(hash).expect(\"tx_get\");",
    ];
    for line in typed {
        assert!(findings(line, &methods).is_empty(), "flagged: {line}");
    }
}
