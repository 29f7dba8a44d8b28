//! A progress line for loading families (#16): on a terminal only, one
//! line rewritten in place (`\r`) with the municipality's code, the
//! families stored so far, the total and the rate. Counts only: no
//! personal data. When stderr is not a terminal (logs, CI, tests) nothing
//! is written; the `tracing` lines every `PROGRESS_EVERY` families remain.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is rewritten at most.
const EVERY: Duration = Duration::from_millis(250);

pub(crate) struct Progress {
    code: &'static str,
    total: u64,
    started: Instant,
    shown: Option<Instant>,
    on_terminal: bool,
}

impl Progress {
    pub(crate) fn start(code: &'static str, total: u64) -> Self {
        Self { code, total, started: Instant::now(), shown: None, on_terminal: std::io::stderr().is_terminal() }
    }

    /// Rewrites the line with `done` families stored (at most every 250 ms).
    pub(crate) fn update(&mut self, done: u64) {
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
        let line = line(self.code, done, self.total, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is not worth failing the load.
        let _ = write!(err, "\r{line}{}", if last { "\n" } else { "" });
        let _ = err.flush();
    }
}

/// `"13112 families 4,000 / 10,000 (40%) 2,345/s"`.
fn line(code: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let secs = elapsed.as_secs_f64();
    // Rounded to whole families a second; precision loss is irrelevant here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rate = if secs > 0.0 { (done as f64 / secs).round() as u64 } else { 0 };
    format!("{code} families {} / {} ({percent}%) {}/s   ", grouped(done), grouped(total), grouped(rate))
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
            line("13112", 4_000, 10_000, Duration::from_secs(2)),
            "13112 families 4,000 / 10,000 (40%) 2,000/s   "
        );
        assert_eq!(line("13112", 0, 0, Duration::ZERO), "13112 families 0 / 0 (100%) 0/s   ");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
    }
}
