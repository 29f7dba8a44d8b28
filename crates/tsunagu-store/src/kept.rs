//! Connections kept out of a pool between uses on the request path (#16).
//!
//! sqlx's pool tests a connection when it is given back (a ping: on
//! PostgreSQL a round trip to the server, on SQLite a hand-off to the
//! connection's worker thread and back) and, unless told otherwise, again
//! when it is taken. Opening a family record took four connections from the
//! pools (the session, the access facts, the record, the audit batch), so
//! those tests were as many round trips as the request's own statements
//! (BENCHMARKS.md, "Open record at the ceiling's heels").
//!
//! A back end keeps here, for the few reads every request makes, up to a
//! bound of connections it took from its pool, each with the instant it
//! was put back. A connection is put back only after its user finished
//! without an error (else it goes back through the pool, whose test closes
//! a broken one), and one that waited here longer than [`TEST_AFTER`] is
//! tested before it is used again (a server restart or a dropped link while
//! the service was quiet). Kept connections stay counted by the pool as in
//! use; the bound leaves the rest of the pool to everything else.
//!
//! No I/O here: the back ends take, test and put back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A kept connection that waited longer than this is tested before use.
pub const TEST_AFTER: Duration = Duration::from_secs(5);

/// Up to `bound` items, the most recently put back taken first.
pub struct Kept<T> {
    items: Mutex<Vec<(T, Instant)>>,
    bound: usize,
}

impl<T> Kept<T> {
    pub fn new(bound: usize) -> Self {
        Self { items: Mutex::new(Vec::with_capacity(bound)), bound }
    }

    /// The most recently put back item, and whether it waited long enough
    /// to be tested before use.
    pub fn take(&self) -> Option<(T, bool)> {
        let (item, since) = self.items.lock().ok()?.pop()?;
        Some((item, since.elapsed() > TEST_AFTER))
    }

    /// Keeps `item`, or hands it back when the bound is reached (the caller
    /// then gives it back to its pool by dropping it).
    pub fn put_back(&self, item: T) -> Option<T> {
        match self.items.lock() {
            Ok(mut items) if items.len() < self.bound => {
                items.push((item, Instant::now()));
                None
            }
            _ => Some(item),
        }
    }

    /// How many are kept now.
    pub fn len(&self) -> usize {
        self.items.lock().map(|i| i.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lets every kept item go (for a pool that is closing).
    pub fn drain(&self) -> Vec<T> {
        self.items.lock().map(|mut i| i.drain(..).map(|(t, _)| t).collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_its_bound_and_gives_the_latest_first() {
        let k = Kept::new(2);
        assert!(k.take().is_none());
        assert_eq!(k.put_back(1), None);
        assert_eq!(k.put_back(2), None);
        assert_eq!(k.put_back(3), Some(3), "over the bound: handed back");
        assert_eq!(k.len(), 2);
        assert_eq!(k.take(), Some((2, false)));
        assert_eq!(k.drain(), vec![1]);
        assert!(k.is_empty());
    }
}
