//! Driving headless Chromium for the explorer test: finding (or installing) it,
//! launching it with the flags this machine needs, reading the page through
//! JavaScript expressions, and saving screenshots.

use headless_chrome::protocol::cdp::{Emulation, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_tests::tamga_bin;

/// How long the page may take to show something.
pub const WAIT: Duration = Duration::from_secs(30);
/// Screenshots are this wide, and at most this tall.
pub const SHOT_WIDTH: u32 = 1000;
const SHOT_HEIGHT_MAX: u32 = 2400;

/// Chromium, installed with apt-get when missing; `None` (said on stderr) only
/// when it cannot be, and never under CI (`CI` set), where that is a failure.
pub fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.is_file() {
        return Some(path);
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    eprintln!("installing chromium (apt-get install -y chromium) for the explorer test");
    if !apt(&["install", "-y", "chromium"]) {
        let _ = apt(&["update"]);
        let _ = apt(&["install", "-y", "chromium"]);
    }
    if path.is_file() {
        return Some(path);
    }
    let why = "chromium is not installed and apt-get could not install it";
    // A skip is printed, but a passing test's output is hidden: in CI the
    // browser test must run, so there it fails instead.
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set and the explorer's browser test cannot run: {why}"
    );
    eprintln!("SKIPPED the explorer's browser test: {why}");
    None
}

pub fn launch(chromium: PathBuf, profile: &Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.to_owned()))
        .window_size(Some((SHOT_WIDTH, 1200)))
        .idle_browser_timeout(Duration::from_secs(300))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options).expect("chromium starts")
}

/// What an expression evaluates to in the page, carried over as JSON.
pub fn eval(tab: &Tab, expression: &str) -> Value {
    let script = format!("JSON.stringify({expression})");
    let result = tab.evaluate(&script, false);
    let object = result.unwrap_or_else(|e| panic!("evaluating {expression}: {e}"));
    let json = object.value.unwrap_or(Value::Null);
    serde_json::from_str(json.as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Waits until `condition` (a script) is true in the page.
pub fn wait_for(tab: &Tab, condition: &str, what: &str) {
    let deadline = Instant::now() + WAIT;
    while eval(tab, condition) != Value::Bool(true) {
        if Instant::now() > deadline {
            let shown = eval(tab, "document.getElementById('view').innerText");
            panic!("{what}: not shown in {WAIT:?}; the page shows: {shown}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The text of the first element `selector` matches, if any.
pub fn text(tab: &Tab, selector: &str) -> String {
    let script = format!(
        "(document.querySelector({}) || {{}}).textContent || ''",
        json!(selector)
    );
    eval(tab, &script).as_str().unwrap_or_default().to_owned()
}

pub fn count(tab: &Tab, selector: &str) -> u64 {
    let script = format!("document.querySelectorAll({}).length", json!(selector));
    eval(tab, &script).as_u64().unwrap_or(0)
}

/// Opens a view by its address, as a link or a bookmark would, and waits for it.
pub fn visit(tab: &Tab, hash: &str, view: &str) {
    eval(
        tab,
        &format!(
            "(document.getElementById('view').removeAttribute('data-view'), location.hash = {}, true)",
            json!(hash)
        ),
    );
    wait_for(
        tab,
        &format!(
            "document.getElementById('view').dataset.view === {}",
            json!(view)
        ),
        &format!("the {view} view at {hash}"),
    );
}

/// A screenshot of the whole page, `width` wide, into `dir/NAME.png`.
pub fn shot(tab: &Tab, dir: &Path, name: &str, width: u32, mobile: bool) {
    let metrics = |height: u32| Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 1.0,
        mobile,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    };
    tab.call_method(metrics(900)).expect("viewport");
    let height = eval(tab, "document.documentElement.scrollHeight")
        .as_u64()
        .unwrap_or(900);
    let height = u32::try_from(height)
        .unwrap_or(SHOT_HEIGHT_MAX)
        .clamp(400, SHOT_HEIGHT_MAX);
    tab.call_method(metrics(height)).expect("viewport");
    std::thread::sleep(Duration::from_millis(300));
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("writing a screenshot");
}

/// Where screenshots go: `explorer-screens/` in the target dir the binary is in.
pub fn screens_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            tamga_bin()
                .parent()
                .and_then(Path::parent)
                .map(Path::to_owned)
        })
        .expect("a target dir");
    let dir = target.join("explorer-screens");
    std::fs::create_dir_all(&dir).expect("screens dir");
    dir
}
