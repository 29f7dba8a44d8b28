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
//! was put back, and lets at most that many be in use at once (a request
//! waits its turn, in order). A connection is put back only after its user finished
//! without an error (else it goes back through the pool, whose test closes
//! a broken one), and one that waited here longer than [`TEST_AFTER`] is
//! tested before it is used again (a server restart or a dropped link while
//! the service was quiet). Kept connections stay counted by the pool as in
//! use; the bound leaves the rest of the pool to everything else.
//!
//! No I/O here: the back ends take, test and put back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A kept connection that waited longer than this is tested before use.
pub const TEST_AFTER: Duration = Duration::from_secs(5);

/// Up to `bound` items, each used by one holder of a [`Turn`] at a time:
/// at most `bound` turns are out, given in the order they were asked for,
/// so a request that waits is never overtaken by later ones (connections
/// handed back to the pool instead would leave the pool's own waiters
/// behind the kept ones: BENCHMARKS.md saw p99s of 0.2–0.3 s that way).
pub struct Kept<T> {
    items: Mutex<Vec<(T, Instant)>>,
    turns: Arc<Semaphore>,
    bound: usize,
}

/// The right to use one kept item (or one taken from the pool in its place)
/// until it is dropped.
pub struct Turn(#[allow(dead_code)] OwnedSemaphorePermit);

impl<T> Kept<T> {
    pub fn new(bound: usize) -> Self {
        Self { items: Mutex::new(Vec::with_capacity(bound)), turns: Arc::new(Semaphore::new(bound)), bound }
    }

    /// Waits for a turn (none while the bound is zero: `None`).
    pub async fn turn(&self) -> Option<Turn> {
        if self.bound == 0 {
            return None;
        }
        self.turns.clone().acquire_owned().await.ok().map(Turn)
    }

    /// The most recently put back item, and whether it waited long enough
    /// to be tested before use (for the holder of a turn).
    pub fn take(&self) -> Option<(T, bool)> {
        let (item, since) = self.items.lock().ok()?.pop()?;
        Some((item, since.elapsed() > TEST_AFTER))
    }

    /// Keeps `item` (the turn ends), or hands it back when the bound is
    /// reached (the caller then gives it back to its pool by dropping it).
    pub fn put_back(&self, item: T, turn: Turn) -> Option<T> {
        let handed = match self.items.lock() {
            Ok(mut items) if items.len() < self.bound && !self.turns.is_closed() => {
                items.push((item, Instant::now()));
                None
            }
            _ => Some(item),
        };
        drop(turn);
        handed
    }

    /// How many are kept now.
    pub fn len(&self) -> usize {
        self.items.lock().map(|i| i.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lets every kept item go, and keeps none from now on (for a pool that
    /// is closing: what is in use then goes back to the pool when done, and
    /// a request that asks for a turn is sent to the pool).
    pub fn drain(&self) -> Vec<T> {
        self.turns.close();
        self.items.lock().map(|mut i| i.drain(..).map(|(t, _)| t).collect()).unwrap_or_default()
    }
}

/// A connection taken for the request path: [`Hot::done`] keeps it for the
/// next request when its statements went well; dropped otherwise (an error,
/// or the request went away mid-statement), it goes back to its pool, which
/// tests it (and closes it if the link is gone).
pub struct Hot<'a, T> {
    conn: Option<T>,
    kept: &'a Kept<T>,
    /// The request path's turn (none when nothing is kept).
    turn: Option<Turn>,
}

impl<'a, T: std::ops::DerefMut> Hot<'a, T> {
    pub fn new(conn: T, kept: &'a Kept<T>, turn: Option<Turn>) -> Self {
        Self { conn: Some(conn), kept, turn }
    }

    pub fn conn(&mut self) -> crate::Result<&mut T::Target> {
        self.conn.as_deref_mut().ok_or_else(|| crate::StoreError::Other("the connection was given back".into()))
    }

    /// Keeps the connection if `r` is no error, and answers `r`.
    pub fn done<R>(mut self, r: crate::Result<R>) -> crate::Result<R> {
        if r.is_ok() {
            if let (Some(conn), Some(turn)) = (self.conn.take(), self.turn.take()) {
                drop(self.kept.put_back(conn, turn));
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_up_to_its_bound_gives_the_latest_first_and_turns_in_order() {
        let k = Kept::new(2);
        let (a, b) = (k.turn().await.unwrap(), k.turn().await.unwrap());
        assert!(k.take().is_none());
        // A third asks while two turns are out: it waits for one to end.
        let third = tokio::time::timeout(Duration::from_millis(50), k.turn()).await;
        assert!(third.is_err(), "no third turn while two are out");
        assert_eq!(k.put_back(1, a), None);
        assert_eq!(k.put_back(2, b), None);
        let c = k.turn().await.unwrap();
        assert_eq!(k.take(), Some((2, false)));
        assert_eq!(k.put_back(2, c), None);
        assert_eq!(k.len(), 2);
        let d = k.turn().await.unwrap();
        assert_eq!(k.drain(), vec![1, 2]);
        assert!(k.is_empty());
        assert_eq!(k.put_back(3, d), Some(3), "none kept once drained");
        assert!(k.turn().await.is_none(), "no turn once drained");
        assert!(Kept::<u8>::new(0).turn().await.is_none(), "a bound of zero keeps nothing");
    }
}
