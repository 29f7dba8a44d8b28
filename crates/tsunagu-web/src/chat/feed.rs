//! One read per new message per node, shared by every socket (and long
//! poll) of its room.
//!
//! A wake-up (`base::events`: this node's post, or another node's NOTIFY)
//! reaches every socket of the room at once. Each of them used to read the
//! room's facts and the new message for itself — a message cost a read per
//! socket. Here a node keeps, for each room that has a socket open, the
//! room's last few messages as the frames the sockets send, and the room's
//! access facts:
//!
//! - **messages**: a socket asks for what follows its last number, up to
//!   the number the wake-up told (`wanted`). When the kept messages reach
//!   that far it gets them without a read; otherwise it takes the room's
//!   single reading turn (a lock per room): the first socket to get it reads
//!   the store once from the last kept number, and the sockets waiting
//!   behind it find the messages kept when their turn comes. A message
//!   posted on this node is offered to the room at once (the post has it in
//!   hand), so a socket on the posting node reads nothing at all. Messages
//!   of a room are stored under the room's lock, one number after another,
//!   and a wake-up is sent only after the commit: what a read finds is
//!   always every message up to some number, so what is kept has no gap.
//!   A socket far behind what is kept (or a read without a wake-up's
//!   number) reads for itself, as a reconnect does.
//! - **access facts** (`RoomAccess`: the parent, the active team): kept for
//!   [`ACCESS_FRESH`] at most, and read again (once, by one socket) after a
//!   change is told: a team set, a supporter's state, an escalation (the
//!   room's change) or an account disabled (the municipality's). Each socket
//!   still asks the policy, with its own actor, before it sends anything.
//!
//! - **wake-ups by room**: the node's wake-ups (`base::events`, one
//!   broadcast) are sorted once, by one task per node ([`Feed::dispatch`]):
//!   a room's message goes to that room's sockets only (a channel per room
//!   kept here), and every other kind (who may see a room, an account, a
//!   session: rare) to every socket. Before, every message woke every socket
//!   of the node — 1,000 task wake-ups per message with 1,000 sockets open,
//!   which bounded a node's throughput once posts were group-committed.
//!
//! Nothing here is the truth: a forgotten room, a lost change or a read that
//! fails costs a read, never a message sent to someone the policy refuses or
//! a gap (a socket's own last number is what it asks from).

use crate::base::events::{Event, Events};
use crate::base::AppState;
use crate::chat::{MAX_PAGE, ROOM_EVENT};
use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::policy::RoomAccess;
use tsunagu_domain::{MunicipalityId, RoomId};
use tsunagu_store::{ChatMessage, StoreError};

/// Messages a room keeps (the latest): enough for every socket that keeps up.
const KEPT: usize = 16;
/// The longest a room's access facts are trusted without a change being
/// told (a change whose wake-up was lost takes effect within this).
pub const ACCESS_FRESH: Duration = Duration::from_secs(30);
/// Change tags remembered (each change is acted on once, by whichever socket sees it first).
const TAGS: usize = 64;
/// Wake-ups a room's sockets may fall behind by before they look at the
/// room again (`Lagged`), and the same for the other kinds.
const ROOM_WAKES: usize = 64;
const OTHER_WAKES: usize = 256;
/// The kind of the wake-up the sorting task sends every socket when it
/// missed some itself: look at the room again.
pub const MISSED_EVENT: &str = "chat_missed";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A message as every socket of the room sends it: its number and its
/// frame (and the message, for a long poll's answer).
#[derive(Clone)]
pub struct Frame {
    pub seq: i64,
    pub text: Utf8Bytes,
    pub message: Arc<ChatMessage>,
}

impl Frame {
    /// The message's frame, serialised once for every socket of the room
    /// (straight from the message: no tree of values, no copy of its text).
    pub fn of(m: ChatMessage) -> Frame {
        let seq = m.seq;
        let message = Arc::new(m);
        let frame = MessageFrame { kind: "message", message: MessageRef::from(&*message) };
        // Serialising plain fields cannot fail; were it to, the frame would
        // say nothing rather than something wrong.
        let text = serde_json::to_string(&frame).unwrap_or_default();
        Frame { seq, text: text.into(), message }
    }
}

/// `{"type":"message","message":…}` as a room's sockets send it.
#[derive(Serialize)]
struct MessageFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: MessageRef<'a>,
}

/// A [`MessageView`](crate::chat::MessageView) borrowed from the stored message: the same fields, in
/// the same order, serialised the same (a test compares them).
#[derive(Serialize)]
struct MessageRef<'a> {
    room: RoomId,
    seq: i64,
    author: tsunagu_domain::AccountId,
    author_role: tsunagu_domain::roles::Role,
    author_name: &'a str,
    client_id: &'a str,
    body: &'a str,
    sent_at: jiff::Timestamp,
}

impl<'a> From<&'a ChatMessage> for MessageRef<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        MessageRef {
            room: m.room,
            seq: m.seq,
            author: m.author,
            author_role: m.author_role,
            author_name: &m.author_name,
            client_id: &m.client_id,
            body: &m.body,
            sent_at: m.sent_at,
        }
    }
}

/// What changed: one room's access, or every room's of a municipality (an account).
#[derive(Debug, Clone, Copy)]
pub enum Changed {
    Room(MunicipalityId, RoomId),
    Municipality(MunicipalityId),
}

/// This node's rooms that have a socket open (`AppState::shared`).
pub struct Feed {
    rooms: Mutex<Rooms>,
    /// Per municipality, how many account changes were told: a room's facts
    /// read before the last one are read again.
    epochs: Mutex<HashMap<i64, u64>>,
    tags: Mutex<VecDeque<i64>>,
    /// Wake-ups of every kind but a room's message, to every socket.
    others: broadcast::Sender<Event>,
    /// Whether the sorting task runs.
    dispatching: AtomicBool,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            rooms: Mutex::default(),
            epochs: Mutex::default(),
            tags: Mutex::default(),
            others: broadcast::channel(OTHER_WAKES).0,
            dispatching: AtomicBool::new(false),
        }
    }
}

#[derive(Default)]
struct Rooms {
    map: HashMap<(i64, i64), Weak<FeedRoom>>,
    /// When the map is this long, rooms without a socket are let go.
    prune_at: usize,
}

impl Feed {
    /// Starts this node's sorting of wake-ups (once): a room's message to
    /// its room's channel, the rest to every socket. Call before reading
    /// what a socket missed (a wake-up after the call is not lost). The task
    /// ends with the node's wake-ups (or this feed).
    pub fn dispatch(self: &Arc<Self>, events: &Events) {
        if self.dispatching.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut rx = events.subscribe();
        let feed = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let event = rx.recv().await;
                let Some(feed) = feed.upgrade() else { return };
                match event {
                    Ok(e) if e.kind == ROOM_EVENT => {
                        if let Some(r) = feed.existing(MunicipalityId(e.municipality), RoomId(e.id)) {
                            // No socket listening is not an error.
                            let _ = r.wakes.send(e);
                        }
                    }
                    Ok(e) => {
                        let _ = feed.others.send(e);
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = feed.others.send(Event { kind: MISSED_EVENT, municipality: 0, id: 0, seq: 0 });
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// Wake-ups of every kind but a room's message (see [`Feed::dispatch`]).
    pub fn others(&self) -> broadcast::Receiver<Event> {
        self.others.subscribe()
    }

    /// The room's shared state, made if no socket holds it; held as long as a socket does.
    pub fn room(&self, m: MunicipalityId, room: RoomId) -> Arc<FeedRoom> {
        let mut rooms = lock(&self.rooms);
        if let Some(r) = rooms.map.get(&(m.0, room.0)).and_then(Weak::upgrade) {
            return r;
        }
        if rooms.map.len() >= rooms.prune_at {
            rooms.map.retain(|_, w| w.strong_count() > 0);
            rooms.prune_at = (rooms.map.len() * 2).max(64);
        }
        let r = Arc::new(FeedRoom::new(m, room));
        rooms.map.insert((m.0, room.0), Arc::downgrade(&r));
        r
    }

    /// The room's shared state if a socket holds it.
    pub fn existing(&self, m: MunicipalityId, room: RoomId) -> Option<Arc<FeedRoom>> {
        lock(&self.rooms).map.get(&(m.0, room.0)).and_then(Weak::upgrade)
    }

    /// A change was told (its tag: acted on once however many sockets see it).
    pub fn changed(&self, what: Changed, tag: i64) {
        {
            let mut tags = lock(&self.tags);
            if tags.contains(&tag) {
                return;
            }
            if tags.len() >= TAGS {
                tags.pop_front();
            }
            tags.push_back(tag);
        }
        match what {
            Changed::Room(m, room) => {
                if let Some(r) = self.existing(m, room) {
                    r.forget_access();
                }
            }
            Changed::Municipality(m) => *lock(&self.epochs).entry(m.0).or_default() += 1,
        }
    }

    fn epoch(&self, m: MunicipalityId) -> u64 {
        lock(&self.epochs).get(&m.0).copied().unwrap_or(0)
    }

    /// The room's access facts: kept ones while fresh, else one read shared
    /// by the sockets asking meanwhile. `None`: the room is no more. Shared,
    /// not copied, by the sockets that ask (one per delivery).
    pub async fn access(&self, state: &AppState, room: &FeedRoom) -> Result<Option<Arc<RoomAccess>>, StoreError> {
        let fresh = |k: &Kept| -> Option<Arc<RoomAccess>> {
            let facts = k.facts.as_ref()?;
            let fresh = k.read_at.is_some_and(|at| at.elapsed() < ACCESS_FRESH)
                && k.room_epoch == room.epoch.load(Ordering::Acquire)
                && k.municipality_epoch == self.epoch(room.m);
            fresh.then(|| facts.clone())
        };
        if let Some(a) = fresh(&lock(&room.kept)) {
            return Ok(Some(a));
        }
        let _turn = room.reading_access.lock().await;
        if let Some(a) = fresh(&lock(&room.kept)) {
            return Ok(Some(a));
        }
        // The epochs before the read: a change told during it reads again.
        let (room_epoch, municipality_epoch) = (room.epoch.load(Ordering::Acquire), self.epoch(room.m));
        let read_at = Instant::now();
        let facts = state.store.room_access(room.m, room.id).await?.map(Arc::new);
        let mut kept = lock(&room.kept);
        kept.facts = facts.clone();
        kept.read_at = Some(read_at);
        kept.room_epoch = room_epoch;
        kept.municipality_epoch = municipality_epoch;
        Ok(facts)
    }
}

/// One room as this node's sockets share it.
pub struct FeedRoom {
    m: MunicipalityId,
    id: RoomId,
    kept: Mutex<Kept>,
    /// How many changes of the room's access were told.
    epoch: AtomicU64,
    /// The room's reading turns (one read of messages, one of facts, at a time).
    reading: tokio::sync::Mutex<()>,
    reading_access: tokio::sync::Mutex<()>,
    /// The room's messages' wake-ups, for its sockets on this node.
    wakes: broadcast::Sender<Event>,
}

#[derive(Default)]
struct Kept {
    /// The latest messages, numbers `base + 1 ..= base + len` with no gap;
    /// `None` until the room was first read or offered a message.
    base: Option<i64>,
    frames: VecDeque<Frame>,
    facts: Option<Arc<RoomAccess>>,
    read_at: Option<Instant>,
    room_epoch: u64,
    municipality_epoch: u64,
}

impl Kept {
    fn top(&self) -> Option<i64> {
        self.base.map(|b| b + self.frames.len() as i64)
    }

    /// What follows `last`, if what is kept reaches `wanted` and starts at or before `last`.
    fn after(&self, last: i64, wanted: i64) -> Option<Vec<Frame>> {
        let (base, top) = (self.base?, self.top()?);
        if top < wanted || base > last {
            return None;
        }
        Some(self.frames.iter().filter(|f| f.seq > last).cloned().collect())
    }

    /// Adds frames that follow the kept ones (others are not kept: a gap
    /// would be a lie), keeping the latest [`KEPT`].
    fn extend(&mut self, list: &[Frame]) {
        for f in list {
            match self.top() {
                Some(top) if f.seq == top + 1 => self.frames.push_back(f.clone()),
                Some(top) if f.seq <= top => continue,
                // Unknown, or after a gap: start again from this one.
                _ => {
                    self.base = Some(f.seq - 1);
                    self.frames.clear();
                    self.frames.push_back(f.clone());
                }
            }
            while self.frames.len() > KEPT {
                self.frames.pop_front();
                self.base = self.base.map(|b| b + 1);
            }
        }
    }
}

impl FeedRoom {
    fn new(m: MunicipalityId, id: RoomId) -> FeedRoom {
        FeedRoom {
            m,
            id,
            kept: Mutex::default(),
            epoch: AtomicU64::new(0),
            reading: tokio::sync::Mutex::new(()),
            reading_access: tokio::sync::Mutex::new(()),
            wakes: broadcast::channel(ROOM_WAKES).0,
        }
    }

    /// The room.
    pub fn id(&self) -> RoomId {
        self.id
    }

    /// The room's messages' wake-ups (see [`Feed::dispatch`]).
    pub fn wakes(&self) -> broadcast::Receiver<Event> {
        self.wakes.subscribe()
    }

    fn forget_access(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// A message this node just stored: kept if it follows the kept ones
    /// (its sockets then send it without a read).
    pub fn offer(&self, m: &ChatMessage) {
        let mut kept = lock(&self.kept);
        if kept.top().is_some_and(|top| m.seq == top + 1) {
            kept.extend(&[Frame::of(m.clone())]);
        }
    }

    /// The kept messages after `last`, if they reach `wanted` (no read).
    pub fn kept_after(&self, last: i64, wanted: i64) -> Option<Vec<Frame>> {
        lock(&self.kept).after(last, wanted)
    }

    /// The room's messages after `last`, reaching at least `wanted` if the
    /// store holds that many: from what is kept, else one read of the store
    /// (from the last kept number) shared by every socket waiting for it.
    /// `ctx`: the asking socket's, decided by the policy over the room.
    pub async fn after(
        &self,
        state: &AppState,
        ctx: &AuditContext,
        last: i64,
        wanted: i64,
    ) -> Result<Vec<Frame>, StoreError> {
        if let Some(list) = lock(&self.kept).after(last, wanted) {
            return Ok(list);
        }
        let _turn = self.reading.lock().await;
        let (from, mut out) = {
            let kept = lock(&self.kept);
            if let Some(list) = kept.after(last, wanted) {
                return Ok(list);
            }
            match (kept.base, kept.top()) {
                // What is kept covers `last`: read only what follows it.
                (Some(base), Some(top)) if base <= last && last <= top => {
                    (top, kept.frames.iter().filter(|f| f.seq > last).cloned().collect())
                }
                _ => (last, vec![]),
            }
        };
        let mut read = vec![];
        let mut at = from;
        loop {
            let page = state.store.messages_after(ctx, self.id, at, MAX_PAGE).await?;
            let full = page.len() == MAX_PAGE as usize;
            read.extend(page.into_iter().map(Frame::of));
            match read.last() {
                Some(f) if full => at = f.seq,
                _ => break,
            }
        }
        let mut kept = lock(&self.kept);
        if kept.base.is_none() && read.is_empty() {
            // Nothing after `from`: the room is known up to there.
            kept.base = Some(from);
        }
        kept.extend(&read);
        out.extend(read.into_iter().filter(|f| f.seq > last));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64) -> Frame {
        Frame::of(ChatMessage {
            room: RoomId(1),
            seq,
            author: tsunagu_domain::AccountId(2),
            // A stored author's role, as the store reads it back.
            author_role: serde_json::from_str("\"chat_parent\"").unwrap_or_else(|e| panic!("{e}")),
            author_name: "うさぎ".into(),
            client_id: format!("c{seq}"),
            body: "こんにちは".into(),
            sent_at: jiff::Timestamp::UNIX_EPOCH,
        })
    }

    fn seqs(list: &[Frame]) -> Vec<i64> {
        list.iter().map(|f| f.seq).collect()
    }

    #[test]
    fn a_frame_is_the_message_view_the_api_documents() {
        let f = frame(3);
        let got: serde_json::Value = serde_json::from_str(f.text.as_str()).unwrap_or_else(|e| panic!("{e}"));
        let view = crate::chat::MessageView::from((*f.message).clone());
        assert_eq!(got, serde_json::json!({ "type": "message", "message": view }));
    }

    #[test]
    fn kept_messages_have_no_gap_and_answer_only_what_they_reach() {
        let mut k = Kept::default();
        assert!(k.after(0, 0).is_none(), "nothing known: read");
        k.base = Some(4);
        k.extend(&[frame(5), frame(6)]);
        assert_eq!(k.after(4, 6).map(|l| seqs(&l)), Some(vec![5, 6]));
        assert_eq!(k.after(5, 6).map(|l| seqs(&l)), Some(vec![6]));
        assert_eq!(k.after(6, 6).map(|l| seqs(&l)), Some(vec![]));
        assert!(k.after(5, 7).is_none(), "a wake-up beyond what is kept: read");
        assert!(k.after(3, 5).is_none(), "a socket behind what is kept: read");
        // A gap is never kept: it starts again after it.
        k.extend(&[frame(9)]);
        assert_eq!((k.base, k.top()), (Some(8), Some(9)));
        k.extend(&[frame(9), frame(10)]);
        assert_eq!(seqs(&k.frames.iter().cloned().collect::<Vec<_>>()), vec![9, 10]);
        // Only the latest are kept.
        let many: Vec<Frame> = (11..=11 + KEPT as i64).map(frame).collect();
        k.extend(&many);
        assert_eq!(k.frames.len(), KEPT);
        assert_eq!(k.top(), Some(11 + KEPT as i64));
        assert_eq!(k.base, Some(11 + KEPT as i64 - KEPT as i64));
    }

    #[tokio::test]
    async fn a_rooms_message_wakes_its_sockets_only_and_other_kinds_wake_every_socket() {
        let (feed, events) = (Arc::new(Feed::default()), Events::default());
        let (m, a, b) = (MunicipalityId(1), RoomId(2), RoomId(3));
        let (room_a, room_b) = (feed.room(m, a), feed.room(m, b));
        let (mut wakes_a, mut wakes_b, mut others) = (room_a.wakes(), room_b.wakes(), feed.others());
        feed.dispatch(&events);
        feed.dispatch(&events);
        events.publish(Event { kind: ROOM_EVENT, municipality: 1, id: 2, seq: 7 });
        events.publish(Event { kind: "account_changed", municipality: 1, id: 9, seq: 8 });
        let got = tokio::time::timeout(Duration::from_secs(5), wakes_a.recv()).await;
        assert_eq!(got.ok().and_then(|r| r.ok()).map(|e| e.seq), Some(7));
        let got = tokio::time::timeout(Duration::from_secs(5), others.recv()).await;
        assert_eq!(got.ok().and_then(|r| r.ok()).map(|e| e.kind), Some("account_changed"));
        // Once sorted, nothing reached the other room (nor the others' channel twice).
        assert!(matches!(wakes_b.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
        assert!(matches!(others.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
    }

    #[test]
    fn a_change_is_acted_on_once_and_an_account_change_reaches_every_room() {
        let feed = Feed::default();
        let (m, r) = (MunicipalityId(1), RoomId(2));
        let room = feed.room(m, r);
        assert!(Arc::ptr_eq(&room, &feed.room(m, r)), "one per room while held");
        feed.changed(Changed::Room(m, r), 7);
        feed.changed(Changed::Room(m, r), 7);
        assert_eq!(room.epoch.load(Ordering::Acquire), 1);
        feed.changed(Changed::Municipality(m), 8);
        feed.changed(Changed::Municipality(m), 8);
        assert_eq!((feed.epoch(m), feed.epoch(MunicipalityId(3))), (1, 0));
        drop(room);
        assert!(feed.existing(m, r).is_none(), "let go with its last socket");
    }
}
