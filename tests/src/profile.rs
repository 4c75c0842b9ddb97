//! An optional CPU profile of a benchmark's timed workload, so "where the time
//! goes" can be looked at again without hand-timing a `perf` attach.
//!
//! With `TAMGA_BENCH_PERF=DIR` set (not empty; a relative DIR is taken from the
//! repository root under `scripts/bench.sh`), each profiled workload runs under
//! `perf record` of the whole machine (every node, the bench client, idle time)
//! sampled on the CPU clock, with DWARF call graphs (the release profile keeps
//! line tables), into `DIR/SECTION.perf.data`, perf's own messages into
//! `DIR/SECTION.perf.log`. The workload starts once perf logs that it samples,
//! so perf's attach is not in the profile. Unset, nothing
//! runs and nothing changes. Read one with, for instance,
//! `perf report -i DIR/cluster.perf.data --no-children --sort sym`.
//! Profiling costs CPU itself: the figures of a profiled run are not figures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The environment variable naming the directory profiles go to.
pub const PROFILE_DIR_ENV: &str = "TAMGA_BENCH_PERF";
/// Samples per second per CPU: enough for a few-second workload, small files.
const SAMPLE_HZ: &str = "499";
/// Stack bytes copied per sample for DWARF unwinding (perf's own default is 8 KiB;
/// async Rust stacks are deeper).
const STACK_DUMP_BYTES: &str = "16384";
/// How long `perf` may take to attach and start sampling before the benchmark
/// gives up on it.
const ATTACH_WAIT_MAX: Duration = Duration::from_secs(30);
/// How often perf's log is read for "Events enabled" while it attaches.
const ATTACH_POLL_MS: u64 = 10;
/// perf's `-D` delay: with one, its events start disabled and it logs
/// [`PERF_ENABLED`] when it enables them, which is what the attach waits for.
const ENABLE_DELAY_MS: &str = "1";
/// What perf prints once it samples.
const PERF_ENABLED: &str = "Events enabled";
/// What perf prints once its file is written.
const PERF_WROTE: &str = "Captured and wrote";
/// perf stops on its own after this long, even if this process is killed and
/// never stops it (its `sleep` ends).
const PROFILE_SECONDS_MAX: &str = "600";

/// A running `perf record`; stopped (and its file written) when dropped, so a
/// workload that panics still leaves no `perf` behind.
pub struct Profile {
    perf: Child,
    path: PathBuf,
    log_path: PathBuf,
}

impl Profile {
    /// Starts profiling `section` when [`PROFILE_DIR_ENV`] is set. A set
    /// variable with no usable `perf` stops the benchmark: a profile was asked for.
    pub fn start(section: &str) -> Option<Profile> {
        let dir = PathBuf::from(std::env::var_os(PROFILE_DIR_ENV).filter(|d| !d.is_empty())?);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| stop(format!("cannot create {}: {e}", dir.display())));
        let path = dir.join(format!("{section}.perf.data"));
        let log_path = dir.join(format!("{section}.perf.log"));
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|e| stop(format!("cannot create {}: {e}", log_path.display())));
        let mut perf = Command::new("perf")
            .args(["record", "-a", "-e", "cpu-clock", "-F", SAMPLE_HZ])
            .args(["--call-graph", &format!("dwarf,{STACK_DUMP_BYTES}")])
            .args(["-D", ENABLE_DELAY_MS, "-o"])
            .arg(&path)
            .args(["--", "sleep", PROFILE_SECONDS_MAX])
            .stdout(log.try_clone().expect("a log file handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| stop(format!("`perf` did not start: {e}")));
        wait_sampling(&mut perf, &log_path);
        Some(Profile {
            perf,
            path,
            log_path,
        })
    }
}

/// Returns once perf samples, so the workload that follows is sampled from its
/// start and perf's attach is not; stops the benchmark if perf exits or takes
/// longer than [`ATTACH_WAIT_MAX`].
fn wait_sampling(perf: &mut Child, log_path: &Path) {
    let deadline = Instant::now() + ATTACH_WAIT_MAX;
    loop {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if log.contains(PERF_ENABLED) {
            return;
        }
        if let Ok(Some(status)) = perf.try_wait() {
            stop(format!(
                "`perf record` exited at once ({status}); see {}",
                log_path.display()
            ));
        }
        if Instant::now() >= deadline {
            let _ = perf.kill();
            let _ = perf.wait();
            stop(format!(
                "`perf record` did not log {PERF_ENABLED:?} within {ATTACH_WAIT_MAX:?} \
                 (perf before 5.10 does not); see {}",
                log_path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(ATTACH_POLL_MS));
    }
}

/// Stops the benchmark over a profile that was asked for and cannot be taken,
/// saying so on stdout too (`scripts/bench.sh` discards the cluster bench's stderr).
fn stop(why: String) -> ! {
    let message = format!("{PROFILE_DIR_ENV} is set, but {why}");
    println!("{message}");
    panic!("{message}");
}

impl Drop for Profile {
    fn drop(&mut self) {
        // SIGINT: perf writes its file and exits; if it cannot be sent, kill it.
        let pid = self.perf.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        if !sent.is_ok_and(|s| s.success()) {
            let _ = self.perf.kill();
        }
        let ended = self.perf.wait();
        // perf may end by a signal of its own after writing (it passes on how its
        // `sleep` ended), so what it logged says whether the file is complete.
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        if log.contains(PERF_WROTE) {
            println!("profile written:               {}", self.path.display());
        } else {
            println!(
                "no usable profile at {}: perf ended {ended:?}; see {}",
                self.path.display(),
                self.log_path.display()
            );
        }
    }
}
