//! An optional CPU profile of a benchmark's timed workload, so "where the time
//! goes" can be looked at again without hand-timing a `perf` attach.
//!
//! With `TAMGA_BENCH_PERF=DIR` set, each profiled workload runs under
//! `perf record` of the whole machine (every node, the bench client, idle time)
//! sampled on the CPU clock, with DWARF call graphs (the release profile keeps
//! line tables), into `DIR/SECTION.perf.data`. Unset, nothing runs and nothing
//! changes. Read one with, for instance,
//! `perf report -i DIR/cluster.perf.data --no-children --sort sym`.
//! Profiling costs CPU itself: the figures of a profiled run are not figures.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The environment variable naming the directory profiles go to.
pub const PROFILE_DIR_ENV: &str = "TAMGA_BENCH_PERF";
/// Samples per second per CPU: enough for a few-second workload, small files.
const SAMPLE_HZ: &str = "499";
/// How long `perf` gets to attach before the workload starts.
const ATTACH_WAIT: Duration = Duration::from_millis(500);

/// A running `perf record`; stopped (and its file written) when dropped, so a
/// workload that panics still leaves no `perf` behind.
pub struct Profile {
    perf: Child,
    path: PathBuf,
}

impl Profile {
    /// Starts profiling `section` when [`PROFILE_DIR_ENV`] is set. A set
    /// variable with no usable `perf` stops the benchmark: a profile was asked for.
    pub fn start(section: &str) -> Option<Profile> {
        let dir = PathBuf::from(std::env::var_os(PROFILE_DIR_ENV)?);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("{PROFILE_DIR_ENV}: cannot create {}: {e}", dir.display()));
        let path = dir.join(format!("{section}.perf.data"));
        let perf = Command::new("perf")
            .args(["record", "-a", "-e", "cpu-clock", "-F", SAMPLE_HZ])
            .args(["--call-graph", "dwarf,16384", "-o"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{PROFILE_DIR_ENV} is set but `perf` did not start: {e}"));
        std::thread::sleep(ATTACH_WAIT);
        Some(Profile { perf, path })
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        // SIGINT: perf writes its file and exits.
        let pid = self.perf.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let ended = self.perf.wait();
        match (ended, self.path.is_file()) {
            (Ok(_), true) => println!("profile written:               {}", self.path.display()),
            (ended, _) => println!(
                "no profile at {}: perf ended {ended:?}",
                self.path.display()
            ),
        }
    }
}
