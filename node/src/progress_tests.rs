//! The pure part of progress: rate, ETA, lines and their pace, with an injected clock.

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn cadence(first: u64, every: u64) -> Cadence {
    Cadence {
        first: Duration::from_secs(first),
        every: Duration::from_secs(every),
    }
}

fn at(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn the_mode_follows_quiet_then_the_terminal() {
    assert_eq!(choose_mode(true, true, false, false), Mode::Off);
    assert_eq!(choose_mode(true, false, false, false), Mode::Off);
    assert_eq!(choose_mode(false, true, false, false), Mode::Bar);
    assert_eq!(choose_mode(false, false, false, false), Mode::Lines);
    assert_eq!(choose_mode(false, true, true, false), Mode::Lines, "CI");
    assert_eq!(
        choose_mode(false, true, false, true),
        Mode::Lines,
        "TERM=dumb"
    );
}

#[test]
fn rate_and_eta_come_from_positions_over_time() {
    let mut tracker = Tracker::new("catching up", "blocks", 100, at(0), cadence(0, 10));
    tracker.set_total(Some(500));
    assert_eq!(tracker.rate(), None, "no time has passed");
    assert_eq!(tracker.eta(), None);
    tracker.update(120, at(1));
    tracker.update(140, at(2));
    assert_eq!(tracker.rate(), Some(20.0));
    assert_eq!(tracker.eta(), Some(at(18)), "360 blocks at 20 a second");
    tracker.update(500, at(3));
    assert_eq!(tracker.eta(), Some(Duration::ZERO));
}

#[test]
fn the_rate_forgets_what_is_older_than_its_window() {
    let mut tracker = Tracker::new("catching up", "blocks", 0, at(0), cadence(0, 10));
    // Fast at first, then one block a second.
    tracker.update(1000, at(1));
    for s in 2..=30 {
        tracker.update(1000 + (s - 1), at(s));
    }
    let rate = tracker.rate().expect("a rate");
    assert!((rate - 1.0).abs() < 1e-9, "{rate}");
}

#[test]
fn a_stalled_count_has_no_eta() {
    let mut tracker = Tracker::new("catching up", "blocks", 10, at(0), cadence(0, 10));
    tracker.set_total(Some(50));
    tracker.update(10, at(5));
    assert_eq!(tracker.rate(), Some(0.0));
    assert_eq!(tracker.eta(), None);
}

#[test]
fn a_counted_line_names_position_total_rate_and_eta() {
    let mut tracker = Tracker::new("catching up", "blocks", 100, at(0), cadence(0, 10));
    tracker.set_total(Some(500));
    tracker.update(200, at(4));
    assert_eq!(
        tracker.line(at(4)),
        "catching up: 200/500 blocks (40%), 25.0 blocks/s, ETA 12s"
    );
}

#[test]
fn a_wait_line_names_the_time_elapsed() {
    let tracker = Tracker::new("waiting for abc to commit", "", 0, at(3), cadence(5, 5));
    assert_eq!(
        tracker.line(at(9)),
        "waiting for abc to commit: 6.0s elapsed"
    );
}

#[test]
fn lines_come_first_after_a_delay_then_at_a_steady_pace() {
    let mut tracker = Tracker::new("waiting", "", 0, at(0), cadence(2, 5));
    assert!(!tracker.line_due(at(1)));
    assert!(!tracker.wrote_lines());
    assert!(tracker.line_due(at(2)));
    assert!(!tracker.line_due(at(3)));
    assert!(!tracker.line_due(at(6)));
    assert!(tracker.line_due(at(7)));
    assert!(tracker.wrote_lines());
}

#[test]
fn durations_read_as_people_write_them() {
    assert_eq!(format_duration(Duration::from_millis(400)), "0.4s");
    assert_eq!(format_duration(at(11)), "11s");
    assert_eq!(format_duration(at(185)), "3m05s");
    assert_eq!(format_duration(at(3720)), "1h02m");
    assert_eq!(format_duration(SECOND * 59), "59s");
}

#[test]
fn catching_up_means_peers_are_a_few_blocks_ahead() {
    assert!(!is_catching_up(10, 0), "no peer reported");
    assert!(!is_catching_up(10, 19));
    assert!(is_catching_up(10, 20));
    assert!(!is_catching_up(u64::MAX, u64::MAX));
}
