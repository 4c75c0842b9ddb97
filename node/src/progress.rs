//! Progress for long work: a node catching up with its peers, `tamga testnet`
//! writing node homes, a CLI waiting for a transaction to commit. On a terminal
//! it is an `indicatif` bar (or a spinner when there is no total); otherwise
//! (stderr not a terminal, `CI` set, `TERM=dumb`) plain lines at a steady pace;
//! with `--quiet`, nothing. It never writes to stdout, which carries results.
//!
//! The arithmetic (rate over a sliding window, ETA, the line's text, when a
//! line is due) is the pure [`Tracker`], driven by times the caller passes in,
//! so it is tested without a clock; [`Progress`] is the thin edge that reads
//! the clock and draws.

use indicatif::style::TemplateError;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How progress is shown in this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A bar or spinner redrawn on stderr.
    Bar,
    /// Plain lines on stderr, at most one per [`Cadence::every`].
    Lines,
    /// Nothing (`--quiet`).
    Off,
}

/// The mode for a process: `quiet` wins; a bar only on a real terminal outside CI.
pub fn choose_mode(quiet: bool, stderr_is_terminal: bool, ci: bool, dumb_term: bool) -> Mode {
    match (quiet, stderr_is_terminal && !ci && !dumb_term) {
        (true, _) => Mode::Off,
        (false, true) => Mode::Bar,
        (false, false) => Mode::Lines,
    }
}

static MODE: OnceLock<Mode> = OnceLock::new();
const COUNTER_TEMPLATE: &str = "{prefix} [{bar:30}] {pos}/{len} {msg}";
const SPINNER_TEMPLATE: &str = "{spinner} {prefix} ({elapsed})";
/// Every bar of the process, so log lines can be written around them.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Sets this process's mode from `--quiet` and its surroundings (once, at start).
pub fn init(quiet: bool) -> Mode {
    *MODE.get_or_init(|| detect(quiet))
}

fn detect(quiet: bool) -> Mode {
    let env_set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    choose_mode(quiet, std::io::stderr().is_terminal(), env_set("CI"), dumb)
}

pub fn mode() -> Mode {
    *MODE.get_or_init(|| detect(false))
}

/// Set when the log is JSON: work that reports through the log then writes log
/// lines, never a bar, so every stderr line stays a JSON object.
static LOG_IS_JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn log_is_json() {
    LOG_IS_JSON.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The mode for work whose plain lines go to `lines`.
fn mode_for(lines: Lines) -> Mode {
    let json = LOG_IS_JSON.load(std::sync::atomic::Ordering::Relaxed);
    match mode() {
        Mode::Bar if lines == Lines::Log && json => Mode::Lines,
        mode => mode,
    }
}

/// When plain lines are written: the first after `first`, then one per `every`.
#[derive(Clone, Copy, Debug)]
pub struct Cadence {
    pub first: Duration,
    pub every: Duration,
}

/// Positions kept to measure the rate (a sliding window).
const RATE_WINDOW: Duration = Duration::from_secs(10);
const RATE_SAMPLES_MAX: usize = 64;

/// The pure state of one piece of work: what was done when, what remains.
#[derive(Clone, Debug)]
pub struct Tracker {
    label: String,
    unit: &'static str,
    total: Option<u64>,
    position: u64,
    started: Duration,
    samples: VecDeque<(Duration, u64)>,
    last_line: Option<Duration>,
    cadence: Cadence,
}

impl Tracker {
    /// Work called `label`, counted in `unit`, starting at `position` at `now`.
    pub fn new(
        label: &str,
        unit: &'static str,
        position: u64,
        now: Duration,
        cadence: Cadence,
    ) -> Self {
        Tracker {
            label: label.to_owned(),
            unit,
            total: None,
            position,
            started: now,
            samples: VecDeque::from([(now, position)]),
            last_line: None,
            cadence,
        }
    }

    pub fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The work reached `position` at `now`.
    pub fn update(&mut self, position: u64, now: Duration) {
        self.position = position;
        self.samples.push_back((now, position));
        while self.samples.len() > RATE_SAMPLES_MAX
            || self.samples.front().is_some_and(|(t, _)| {
                now.saturating_sub(*t) > RATE_WINDOW && self.samples.len() > 2
            })
        {
            self.samples.pop_front();
        }
    }

    /// Units per second over the window (None until time has passed).
    pub fn rate(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let seconds = last.0.saturating_sub(first.0).as_secs_f64();
        (seconds > 0.0).then(|| last.1.saturating_sub(first.1) as f64 / seconds)
    }

    /// Time left at the current rate (None without a total or a positive rate).
    pub fn eta(&self) -> Option<Duration> {
        let left = self.total?.saturating_sub(self.position);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        let rate = self.rate().filter(|r| *r > 0.0)?;
        Some(Duration::from_secs_f64((left as f64 / rate).min(1e9)))
    }

    /// Rate and ETA, as a bar's message shows them.
    pub fn summary(&self) -> String {
        let mut parts = vec![];
        if let Some(rate) = self.rate() {
            parts.push(format!("{rate:.1} {}/s", self.unit));
        }
        if let Some(eta) = self.eta().filter(|_| self.total.is_some()) {
            parts.push(format!("ETA {}", format_duration(eta)));
        }
        parts.join(", ")
    }

    /// The plain line for the work at `now`.
    pub fn line(&self, now: Duration) -> String {
        let mut line = format!("{}: ", self.label);
        match self.total {
            Some(total) => {
                let done = self.position.min(total).saturating_mul(100);
                let percent = done.checked_div(total).unwrap_or(100);
                line += &format!("{}/{total} {} ({percent}%)", self.position, self.unit);
            }
            None => {
                line += &format!(
                    "{} elapsed",
                    format_duration(now.saturating_sub(self.started))
                )
            }
        }
        let summary = self.summary();
        if !summary.is_empty() {
            line += &format!(", {summary}");
        }
        line
    }

    /// Whether a plain line is due at `now`; if so, it counts as written.
    pub fn line_due(&mut self, now: Duration) -> bool {
        let due = match self.last_line {
            None => now.saturating_sub(self.started) >= self.cadence.first,
            Some(last) => now.saturating_sub(last) >= self.cadence.every,
        };
        if due {
            self.last_line = Some(now);
        }
        due
    }

    /// Whether any plain line was written.
    pub fn wrote_lines(&self) -> bool {
        self.last_line.is_some()
    }

    /// Time since the work started.
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.started)
    }
}

/// `1h02m`, `3m05s`, `11s`, `0.4s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs >= 10 {
        format!("{secs}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Where plain lines go: stderr for the CLI, the log for a running node (so
/// `--log-format json` keeps every stderr line JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    Stderr,
    Log,
}

/// One piece of work being shown (the edge: the clock and the terminal).
pub struct Progress {
    tracker: Tracker,
    epoch: Instant,
    bar: Option<ProgressBar>,
    lines: Option<Lines>,
}

impl Progress {
    /// Work with a known `total` of `unit`s, starting at `position`.
    pub fn counter(
        label: &str,
        unit: &'static str,
        position: u64,
        total: u64,
        lines: Lines,
        cadence: Cadence,
    ) -> Self {
        let bar = hidden_bar(Some(total)).with_position(position);
        let style = ProgressStyle::with_template(COUNTER_TEMPLATE).map(|s| s.progress_chars("=> "));
        let mut progress = Self::new(label, unit, position, lines, cadence, (bar, style));
        progress.tracker.set_total(Some(total));
        progress
    }

    /// Work with no known end (a wait): a spinner, or a line now and then.
    pub fn spinner(label: &str, lines: Lines, cadence: Cadence) -> Self {
        let style = ProgressStyle::with_template(SPINNER_TEMPLATE);
        let progress = Self::new(label, "", 0, lines, cadence, (hidden_bar(None), style));
        if let Some(bar) = &progress.bar {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        progress
    }

    /// `bar`, styled before it is first drawn, is shown only in [`Mode::Bar`].
    fn new(
        label: &str,
        unit: &'static str,
        position: u64,
        lines: Lines,
        cadence: Cadence,
        (bar, style): (ProgressBar, Result<ProgressStyle, TemplateError>),
    ) -> Self {
        let mode = mode_for(lines);
        let bar = (mode == Mode::Bar).then(|| {
            let bar = match style {
                Ok(style) => bar.with_style(style),
                Err(_) => bar,
            };
            let bars =
                BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            bars.add(bar.with_prefix(label.to_owned()))
        });
        Progress {
            tracker: Tracker::new(label, unit, position, Duration::ZERO, cadence),
            epoch: Instant::now(),
            bar,
            lines: (mode == Mode::Lines).then_some(lines),
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The work reached `position` (of `total`, when it is known and moved).
    pub fn set(&mut self, position: u64, total: Option<u64>) {
        let now = self.now();
        if total.is_some() {
            self.tracker.set_total(total);
        }
        self.tracker.update(position, now);
        if let Some(bar) = &self.bar {
            if let Some(total) = self.tracker.total() {
                bar.set_length(total);
            }
            bar.set_position(position);
            bar.set_message(self.tracker.summary());
        }
        self.tick_lines(now);
    }

    /// Time passed with no news (a wait): a line if one is due.
    pub fn tick(&mut self) {
        let now = self.now();
        self.tick_lines(now);
    }

    fn tick_lines(&mut self, now: Duration) {
        if let Some(lines) = self.lines {
            if self.tracker.line_due(now) {
                write_line(lines, &self.tracker.line(now));
            }
        }
    }

    /// Ends the work; `message` (with the time taken) is the last line, written
    /// always for counted work and only after earlier lines for a wait.
    pub fn finish(self, message: &str) {
        let now = self.now();
        let took = format_duration(self.tracker.elapsed(now));
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            if self.tracker.total().is_some() {
                let _ = BARS
                    .get()
                    .map(|bars| bars.println(format!("{message} in {took}")));
            }
        }
        if let Some(lines) = self.lines {
            if self.tracker.total().is_some() || self.tracker.wrote_lines() {
                write_line(lines, &format!("{message} in {took}"));
            }
        }
    }
}

/// A bar that draws nothing until a [`MultiProgress`] takes it in (so one made
/// in another mode never reaches the terminal, not even when dropped).
fn hidden_bar(length: Option<u64>) -> ProgressBar {
    ProgressBar::with_draw_target(length, ProgressDrawTarget::hidden())
}

impl Drop for Progress {
    /// Work abandoned (an error) leaves no bar behind.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.finish_and_clear();
            }
        }
    }
}

fn write_line(lines: Lines, line: &str) {
    match lines {
        Lines::Stderr => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        Lines::Log => tracing::info!("{line}"),
    }
}

/// Peers must report this many blocks above the node's height for it to count
/// as catching up (a node in step with them is a block or two behind at most,
/// a few more on a devnet making blocks every few milliseconds).
pub const CATCH_UP_MIN_BLOCKS: u64 = 10;
/// A catching-up node's plain lines: one every ten seconds.
const CATCH_UP_CADENCE: Cadence = Cadence {
    first: Duration::ZERO,
    every: Duration::from_secs(10),
};

/// Whether a node at `height` whose peers report `target` is catching up.
pub fn is_catching_up(height: u64, target: u64) -> bool {
    height
        .checked_add(CATCH_UP_MIN_BLOCKS)
        .is_some_and(|behind| target >= behind)
}

/// Shows a running node's catch-up (height / the highest height its peers
/// report) whenever it falls behind, until it stops. It looks each second and
/// whenever a peer's report moves the target: a node that learns it is far
/// behind says so at once, even if it then catches up within the second.
pub async fn show_catch_up(metrics: std::sync::Arc<crate::metrics::Metrics>) {
    let mut shown: Option<Progress> = None;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = metrics.sync_target_changed() => {}
        }
        let (height, target) = metrics.sync_position();
        shown = match shown.take() {
            None if is_catching_up(height, target) => {
                let (title, lines) = ("catching up", Lines::Log);
                let mut progress =
                    Progress::counter(title, "blocks", height, target, lines, CATCH_UP_CADENCE);
                progress.set(height, Some(target));
                Some(progress)
            }
            // No peer reports a tip (all left): nothing to catch up to, so no claim.
            Some(progress) if target == 0 => {
                progress.finish(&format!("at height {height}; no peer reports its tip"));
                None
            }
            Some(progress) if height >= target => {
                progress.finish(&format!("caught up at height {height}"));
                None
            }
            Some(mut progress) => {
                progress.set(height, Some(target));
                Some(progress)
            }
            None => None,
        };
    }
}

/// Log lines on stderr that step around any bar being drawn (a bar redraws
/// below them instead of being torn).
#[derive(Clone, Copy, Default)]
pub struct StderrAroundBars;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for StderrAroundBars {
    type Writer = StderrAroundBars;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

impl Write for StderrAroundBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BARS.get() {
            Some(bars) => bars.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod tests;
