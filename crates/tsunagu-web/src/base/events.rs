//! Wake-ups between requests of one node: a handler that stored something
//! others wait for (a message in a room) says so here, and whoever waits
//! (a WebSocket, a long poll) wakes and reads the store. Nothing but keys
//! travels here — never what was stored — so a wake-up that is not
//! for the reader, lost, or late costs a read, never a wrong answer; a node
//! that missed one catches up at its next read (long polls end within their
//! wait; sockets also look again every few seconds).

use tokio::sync::broadcast;

/// What changed: a kind of thing (a capability's own word), its
/// municipality and its id, and how far it has got (a sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: &'static str,
    pub municipality: i64,
    pub id: i64,
    pub seq: i64,
}

#[derive(Clone)]
pub struct Events(broadcast::Sender<Event>);

impl Default for Events {
    fn default() -> Self {
        // A waiter that falls this far behind just reads the store again.
        Self(broadcast::channel(1024).0)
    }
}

impl Events {
    pub fn publish(&self, e: Event) {
        // No one waiting is not an error.
        let _ = self.0.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }
}
