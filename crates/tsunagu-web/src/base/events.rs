//! Wake-ups between requests, across the nodes of one service: a handler
//! that stored something others wait for (a message in a room) says so
//! here, and whoever waits (a WebSocket, a long poll) wakes and reads the
//! store. Nothing but keys travels — never what was stored — so a wake-up
//! that is not for the reader, lost, or late costs a read, never a wrong
//! answer; a node that missed one catches up at its next read (long polls
//! end within their wait; room sockets also look again every few seconds).
//!
//! On one node (SQLite) a wake-up goes to this process's waiters only. On
//! PostgreSQL it is also sent with `NOTIFY` (`OpsStore::send_wake`), and
//! every node `LISTEN`s on one connection of its own, reconnecting with
//! backoff (`OpsStore::listen_wakes`): the payload is the origin node's
//! random tag, the kind, the municipality, the id and the sequence number.
//! A node hands its own wake-ups to its waiters at once and ignores their
//! echo. A receiver reads what changed through the normal, authorized path.
//!
//! Shutting down is told here too: [`Events::stop`] ends every socket with
//! a close frame that says "come back" (1012, service restart).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use tsunagu_store::{Store, WakeListener};

/// What changed: a kind of thing (a capability's own word), its
/// municipality and its id, and how far it has got (a sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: &'static str,
    pub municipality: i64,
    pub id: i64,
    pub seq: i64,
}

/// The close code a socket is ended with when its node stops: RFC 6455's
/// 1012 "service restart" — reconnect (to this node once it is back, or
/// another behind the same address).
pub const RESTART_CLOSE_CODE: u16 = 1012;

/// The kind of wake-up an account's change is (disabled or enabled): whoever
/// keeps a decision about it (a socket's cached access) decides again. Its
/// id is the account, its `seq` a random tag that tells changes apart.
pub const ACCOUNT_EVENT: &str = "account_changed";

/// The kind of wake-up the end of an account's session is (signed out, or
/// ended by an administrator resetting the password or second factor): a
/// socket opened with a session of that account asks whether its session
/// still stands, and closes if not. Its id is the account, its `seq` a
/// random tag (`Events::publish_change`).
pub const SESSION_EVENT: &str = "session_ended";

/// The close code a socket is ended with when its session has ended (an
/// application code of RFC 6455's private range): sign in again.
pub const SESSION_ENDED_CLOSE_CODE: u16 = 4401;

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    /// Where wake-ups go to other nodes; none: this process only.
    bus: Option<Arc<dyn Store>>,
    /// This process's tag in the payloads it sends (to drop their echo).
    origin: u64,
    /// Whether the listening connection is up (false without one).
    listening: Arc<AtomicBool>,
    stop: Arc<watch::Sender<bool>>,
    /// How far each key has got, as this node knows it: what the waiters of
    /// one node share, so that a safety-net look reads the store once per
    /// key and node, not once per waiter.
    seen: Seen,
    /// The wake-ups waiting to go to the other nodes.
    outbox: Arc<Mutex<Outbox>>,
}

/// The wake-ups for other nodes not sent yet, and whether a task sends
/// them: one task at a time sends everything that queued while it sent the
/// last ones, in one statement (`OpsStore::send_wakes`) — a busy node's
/// wake-ups cost a statement per batch, not per message, each still its
/// own notification, in order.
#[derive(Default)]
struct Outbox {
    pending: Vec<String>,
    sending: bool,
}

/// The most wake-ups one statement sends.
const MAX_WAKES_SENT: usize = 500;

/// The sending task's mark, cleared should the task end before it found
/// nothing left to send (it clears it itself then, under the same lock).
struct Sending(Option<Arc<Mutex<Outbox>>>);

impl Drop for Sending {
    fn drop(&mut self) {
        if let Some(outbox) = self.0.take() {
            outbox.lock().unwrap_or_else(PoisonError::into_inner).sending = false;
        }
    }
}

/// This node's knowledge of each key's sequence: the highest number a
/// wake-up or a read of the store told, and when the store was last read
/// for it. Bounded: when full it forgets everything (a forgotten key costs
/// one read, never a wrong answer).
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<HashMap<SeenKey, SeenSeq>>>);

/// An event's kind, municipality and id.
type SeenKey = (&'static str, i64, i64);

#[derive(Clone, Copy)]
struct SeenSeq {
    seq: i64,
    read_at: Option<Instant>,
}

const MAX_SEEN: usize = 100_000;

impl Seen {
    fn note(&self, e: &Event, read_at: Option<Instant>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_SEEN && !map.contains_key(&(e.kind, e.municipality, e.id)) {
            map.clear();
        }
        let entry = map.entry((e.kind, e.municipality, e.id)).or_insert(SeenSeq { seq: e.seq, read_at: None });
        entry.seq = entry.seq.max(e.seq);
        if read_at.is_some() {
            entry.read_at = read_at;
        }
    }

    fn fresh(&self, kind: &'static str, municipality: i64, id: i64, within: Duration) -> Option<i64> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.get(&(kind, municipality, id))?;
        s.read_at.filter(|at| at.elapsed() < within).map(|_| s.seq)
    }
}

impl Default for Events {
    fn default() -> Self {
        let origin = {
            let mut b = [0u8; 8];
            // A tag, not a secret: without randomness, the time's bits do.
            if getrandom::getrandom(&mut b).is_err() {
                b = (std::process::id() as u64).to_le_bytes();
            }
            u64::from_le_bytes(b)
        };
        Self {
            // A waiter that falls this far behind just reads the store again.
            tx: broadcast::channel(1024).0,
            bus: None,
            origin,
            listening: Arc::default(),
            stop: Arc::new(watch::channel(false).0),
            seen: Seen::default(),
            outbox: Arc::default(),
        }
    }
}

/// The kinds of event this process knows by name (payloads name a kind as
/// text; an `Event` holds a `&'static str`). Filled by `publish` and by
/// payloads that arrive; bounded, so that no one can grow it.
static KINDS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
const MAX_KINDS: usize = 32;

fn intern(kind: &str) -> Option<&'static str> {
    let mut kinds = KINDS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(k) = kinds.iter().find(|k| **k == kind) {
        return Some(k);
    }
    let plausible = !kind.is_empty()
        && kind.len() <= 40
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if !plausible || kinds.len() >= MAX_KINDS {
        return None;
    }
    let k: &'static str = Box::leak(kind.to_owned().into_boxed_str());
    kinds.push(k);
    Some(k)
}

fn register(kind: &'static str) {
    let mut kinds = KINDS.lock().unwrap_or_else(PoisonError::into_inner);
    if !kinds.contains(&kind) && kinds.len() < MAX_KINDS {
        kinds.push(kind);
    }
}

/// `origin kind municipality id seq`, in hex and decimal.
fn payload(origin: u64, e: &Event) -> String {
    format!("{origin:016x} {} {} {} {}", e.kind, e.municipality, e.id, e.seq)
}

fn parse(p: &str) -> Option<(u64, Event)> {
    let mut it = p.split(' ');
    let origin = u64::from_str_radix(it.next()?, 16).ok()?;
    let kind = intern(it.next()?)?;
    let municipality = it.next()?.parse().ok()?;
    let id = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((origin, Event { kind, municipality, id, seq }))
}

impl Events {
    /// Wake-ups across every node on `store`'s database where the back end
    /// carries them (PostgreSQL), else this process's only. `on_state` is
    /// told when the listening connection comes up or is lost.
    pub fn across_nodes(store: &Arc<dyn Store>, on_state: Arc<dyn Fn(bool) + Send + Sync>) -> Self {
        let mut events = Self::default();
        let (tx, origin, listening) = (events.tx.clone(), events.origin, events.listening.clone());
        let seen = events.seen.clone();
        let on_wake = Arc::new(move |p: &str| {
            if let Some((from, e)) = parse(p) {
                if from != origin {
                    seen.note(&e, None);
                    let _ = tx.send(e);
                }
            }
        });
        let on_state = Arc::new(move |up: bool| {
            listening.store(up, Ordering::Relaxed);
            on_state(up);
        });
        if store.listen_wakes(WakeListener { on_wake, on_state }) {
            events.bus = Some(store.clone());
        }
        events
    }

    pub fn publish(&self, e: Event) {
        register(e.kind);
        self.seen.note(&e, None);
        // No one waiting is not an error.
        let _ = self.tx.send(e);
        if let (Some(store), Ok(runtime)) = (&self.bus, tokio::runtime::Handle::try_current()) {
            let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            outbox.pending.push(payload(self.origin, &e));
            if outbox.sending {
                return;
            }
            outbox.sending = true;
            drop(outbox);
            let (store, outbox) = (store.clone(), self.outbox.clone());
            runtime.spawn(async move {
                // Should the task end early (its runtime stops), the next wake-up starts another.
                let mut sending = Sending(Some(outbox.clone()));
                loop {
                    let batch = {
                        let mut o = outbox.lock().unwrap_or_else(PoisonError::into_inner);
                        if o.pending.is_empty() {
                            o.sending = false;
                            sending.0 = None;
                            return;
                        }
                        let take = o.pending.len().min(MAX_WAKES_SENT);
                        let rest = o.pending.split_off(take);
                        std::mem::replace(&mut o.pending, rest)
                    };
                    if let Err(e) = store.send_wakes(&batch).await {
                        // The other nodes' sockets look again within seconds.
                        tracing::warn!(error = %e, "could not wake the other nodes");
                    }
                }
            });
        }
    }

    /// Tells that something with no sequence of its own changed (who may
    /// see a room, an account): an [`Event`] whose `seq` is a random
    /// positive tag, so that a waiter acts once on each change.
    pub fn publish_change(&self, kind: &'static str, municipality: i64, id: i64) {
        static CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        // This node's random tag plus a count: unlike any other node's or change's.
        let tag = self.origin.wrapping_add(CHANGES.fetch_add(1, Ordering::Relaxed)) as i64 & i64::MAX;
        self.publish(Event { kind, municipality, id, seq: tag.max(1) });
    }

    /// The highest sequence this node knows for a key, if the store was read
    /// for it less than `within` ago (wake-ups since then count too); `None`:
    /// read the store ([`Events::note_read`]) before trusting anything.
    pub fn known_seq(&self, kind: &'static str, municipality: i64, id: i64, within: Duration) -> Option<i64> {
        self.seen.fresh(kind, municipality, id, within)
    }

    /// What a read of the store said of a key's sequence, now.
    pub fn note_read(&self, e: Event) {
        self.seen.note(&e, Some(Instant::now()));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Whether wake-ups from other nodes arrive now (false on one node).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// The node stops: every socket closes with [`RESTART_CLOSE_CODE`].
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Resolves once the node stops (at once if it has).
    pub async fn stopping(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_holds_keys_and_numbers_and_reads_back() {
        let e = Event { kind: "chat.room", municipality: 3, id: 42, seq: 7 };
        let p = payload(0xab, &e);
        assert_eq!(p, "00000000000000ab chat.room 3 42 7");
        assert_eq!(parse(&p), Some((0xab, e)));
        for bad in ["", "zz chat.room 1 2 3", "01 chat.room 1 2", "01 chat.room 1 2 3 4", "01 Chat 1 2 3", "01 a b c d"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_known_sequence_needs_a_recent_read_and_counts_later_wake_ups() {
        let events = Events::default();
        let long = Duration::from_secs(3600);
        let e = |seq| Event { kind: "chat.room", municipality: 3, id: 42, seq };
        // A wake-up alone is not a read: the store must be asked first.
        events.publish(e(4));
        assert_eq!(events.known_seq("chat.room", 3, 42, long), None);
        events.note_read(e(5));
        assert_eq!(events.known_seq("chat.room", 3, 42, long), Some(5));
        // A later wake-up raises it; an older read never lowers it.
        events.publish(e(7));
        events.note_read(e(6));
        assert_eq!(events.known_seq("chat.room", 3, 42, long), Some(7));
        // Other keys are their own; a read too long ago is no knowledge.
        assert_eq!(events.known_seq("chat.room", 4, 42, long), None);
        assert_eq!(events.known_seq("chat.room", 3, 43, long), None);
        assert_eq!(events.known_seq("chat.room", 3, 42, Duration::ZERO), None);
    }
}
