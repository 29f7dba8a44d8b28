//! A progress line for loading families (#16): on a terminal only, one
//! line rewritten in place (`\r`) with the municipalities' codes, the
//! families stored so far, the total, the rate since the start and the
//! rate of the last few seconds (flat or falling with size?). Counts only: no
//! personal data. When stderr is not a terminal (logs, CI, tests) nothing
//! is written; the `tracing` lines every `PROGRESS_EVERY` families remain.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the line is rewritten at most.
const EVERY: Duration = Duration::from_millis(250);

/// The window of the recent rate.
const WINDOW: Duration = Duration::from_secs(5);

/// The one line of the loads running at once (several municipalities load
/// side by side on PostgreSQL, #16): their codes, and the families of all
/// of them, so two loads never write over each other's line.
pub(crate) struct Board {
    on_terminal: bool,
    shared: Mutex<Shared>,
}

struct Shared {
    started: Instant,
    shown: Option<Instant>,
    /// The start of the recent rate's window and the count then.
    mark: (Instant, u64),
    /// The families a second over the last full window, once there is one.
    recent: Option<u64>,
    /// Each load's municipality code, families stored and total.
    loads: Vec<(&'static str, u64, u64)>,
}

impl Board {
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        Self {
            on_terminal: std::io::stderr().is_terminal(),
            shared: Mutex::new(Shared { started: now, shown: None, mark: (now, 0), recent: None, loads: Vec::new() }),
        }
    }

    /// A load of `total` families of `code` on this board.
    pub(crate) fn start(&self, code: &'static str, total: u64) -> Progress<'_> {
        let mut shared = self.lock();
        shared.loads.push((code, 0, total));
        Progress { board: self, index: shared.loads.len() - 1, logged: (Instant::now(), 0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panic elsewhere while holding it leaves counts, nothing to distrust.
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The last line, then a newline.
    pub(crate) fn finish(&self) {
        if self.on_terminal {
            write_line(&self.lock(), true);
        }
    }
}

/// One municipality's load on a [`Board`].
pub(crate) struct Progress<'a> {
    board: &'a Board,
    index: usize,
    /// The start of [`Progress::window_rate`]'s window and the count then.
    logged: (Instant, u64),
}

impl Progress<'_> {
    /// The families a second since the last call (for the log line every
    /// 10,000 families: the rate of that stretch of this load alone).
    pub(crate) fn window_rate(&mut self, done: u64) -> u64 {
        let (at, before) = std::mem::replace(&mut self.logged, (Instant::now(), done));
        rate(done.saturating_sub(before), at.elapsed())
    }

    /// Rewrites the line with `done` families of this load stored (at most
    /// every 250 ms).
    pub(crate) fn update(&mut self, done: u64) {
        let mut shared = self.board.lock();
        if let Some(load) = shared.loads.get_mut(self.index) {
            load.1 = done;
        }
        let all = shared.loads.iter().map(|l| l.1).sum::<u64>();
        if shared.mark.0.elapsed() >= WINDOW {
            shared.recent = Some(rate(all.saturating_sub(shared.mark.1), shared.mark.0.elapsed()));
            shared.mark = (Instant::now(), all);
        }
        if !self.board.on_terminal || shared.shown.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        shared.shown = Some(Instant::now());
        write_line(&shared, false);
    }
}

fn write_line(shared: &Shared, last: bool) {
    let codes = shared.loads.iter().map(|l| l.0).collect::<Vec<_>>().join("+");
    let done = shared.loads.iter().map(|l| l.1).sum();
    let total = shared.loads.iter().map(|l| l.2).sum();
    let line = line(&codes, done, total, shared.started.elapsed(), shared.recent);
    let mut err = std::io::stderr().lock();
    // A progress line that cannot be written is not worth failing the load.
    let _ = write!(err, "\r{line}{}", if last { "\n" } else { "" });
    let _ = err.flush();
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
        assert_eq!(
            line("131121+082350", 6_000, 20_000, Duration::from_secs(3), None),
            "131121+082350 families 6,000 / 20,000 (30%) 2,000/s   "
        );
        assert_eq!(rate(10_000, Duration::from_secs(4)), 2_500);
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
    }

    #[test]
    fn loads_side_by_side_share_one_count() {
        let board = Board::new();
        let mut a = board.start("131121", 10);
        let mut b = board.start("082350", 30);
        a.update(4);
        b.update(6);
        a.update(5);
        assert_eq!(board.lock().loads, vec![("131121", 5, 10), ("082350", 6, 30)]);
    }
}
