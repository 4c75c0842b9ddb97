//! Progress off a terminal: `tamga testnet` with stderr piped (no TTY) prints
//! plain progress lines, and none with `--quiet`; its stdout (the result) is
//! the same either way.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use tamga_tests::tamga_bin;

fn testnet(out: &Path, extra: &[&str]) -> Output {
    let output = Command::new(tamga_bin())
        .args([
            "testnet",
            "--validators",
            "3",
            "--base-port",
            "41000",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .env("TAMGA_HOME", out.join("cli-home"))
        .stdin(Stdio::null())
        .output()
        .expect("running tamga testnet");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn testnet_prints_plain_progress_lines_unless_quiet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shown = testnet(&dir.path().join("shown"), &[]);
    let stderr = String::from_utf8_lossy(&shown.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("testnet: wrote 3 node homes in ")),
        "no progress line on stderr: {stderr:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l.contains('\r') && !l.contains('\u{1b}')),
        "terminal control codes off a terminal: {stderr:?}"
    );

    let quiet = testnet(&dir.path().join("quiet"), &["--quiet"]);
    assert_eq!(
        String::from_utf8_lossy(&quiet.stderr),
        "",
        "--quiet printed progress"
    );
    let stdout = |o: &Output| String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(stdout(&shown), stdout(&quiet), "progress changed stdout");
}
