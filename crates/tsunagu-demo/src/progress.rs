//! A progress line for loading families (#16): on a terminal only, one
//! line rewritten in place (`\r`) with the municipality's code, the
//! families stored so far, the total, the rate since the start and the
//! rate of the last few seconds (flat or falling with size?). Counts only: no
//! personal data. When stderr is not a terminal (logs, CI, tests) nothing
//! is written; the `tracing` lines every `PROGRESS_EVERY` families remain.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is rewritten at most.
const EVERY: Duration = Duration::from_millis(250);

/// The window of the recent rate.
const WINDOW: Duration = Duration::from_secs(5);

pub(crate) struct Progress {
    code: &'static str,
    total: u64,
    started: Instant,
    shown: Option<Instant>,
    on_terminal: bool,
    /// The start of the recent rate's window and the count then.
    mark: (Instant, u64),
    /// The families a second over the last full window, once there is one.
    recent: Option<u64>,
    /// The start of [`Progress::window_rate`]'s window and the count then.
    logged: (Instant, u64),
}

impl Progress {
    pub(crate) fn start(code: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Self {
            code,
            total,
            started: now,
            shown: None,
            on_terminal: std::io::stderr().is_terminal(),
            mark: (now, 0),
            recent: None,
            logged: (now, 0),
        }
    }

    /// The families a second since the last call (for the log line every
    /// 10,000 families: the rate of that stretch alone).
    pub(crate) fn window_rate(&mut self, done: u64) -> u64 {
        let (at, before) = std::mem::replace(&mut self.logged, (Instant::now(), done));
        rate(done.saturating_sub(before), at.elapsed())
    }

    /// Rewrites the line with `done` families stored (at most every 250 ms).
    pub(crate) fn update(&mut self, done: u64) {
        if self.mark.0.elapsed() >= WINDOW {
            self.recent = Some(rate(done.saturating_sub(self.mark.1), self.mark.0.elapsed()));
            self.mark = (Instant::now(), done);
        }
        if !self.on_terminal || self.shown.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.shown = Some(Instant::now());
        self.write(done, false);
    }

    /// The last line, then a newline.
    pub(crate) fn finish(&mut self, done: u64) {
        if self.on_terminal {
            self.write(done, true);
        }
    }

    fn write(&self, done: u64, last: bool) {
        let line = line(self.code, done, self.total, self.started.elapsed(), self.recent);
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is not worth failing the load.
        let _ = write!(err, "\r{line}{}", if last { "\n" } else { "" });
        let _ = err.flush();
    }
}

/// `"13112 families 4,000 / 10,000 (40%) 2,345/s (now 2,100/s)"`.
fn line(code: &str, done: u64, total: u64, elapsed: Duration, recent: Option<u64>) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let now = recent.map(|r| format!(" (now {}/s)", grouped(r))).unwrap_or_default();
    format!(
        "{code} families {} / {} ({percent}%) {}/s{now}   ",
        grouped(done),
        grouped(total),
        grouped(rate(done, elapsed))
    )
}

/// `n` over `elapsed`, in whole families a second.
fn rate(n: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    // Rounded to whole families a second; precision loss is irrelevant here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    if secs > 0.0 {
        (n as f64 / secs).round() as u64
    } else {
        0
    }
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_counts_share_and_rate_only() {
        assert_eq!(
            line("13112", 4_000, 10_000, Duration::from_secs(2), None),
            "13112 families 4,000 / 10,000 (40%) 2,000/s   "
        );
        assert_eq!(
            line("13112", 4_000, 10_000, Duration::from_secs(2), Some(1_500)),
            "13112 families 4,000 / 10,000 (40%) 2,000/s (now 1,500/s)   "
        );
        assert_eq!(line("13112", 0, 0, Duration::ZERO, None), "13112 families 0 / 0 (100%) 0/s   ");
        assert_eq!(rate(10_000, Duration::from_secs(4)), 2_500);
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
    }
}
