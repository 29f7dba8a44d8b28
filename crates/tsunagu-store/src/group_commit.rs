//! Group commit (#16, #13): concurrent writes share one write transaction.
//!
//! A read's audit line must be durable before its answer leaves, and a chat
//! message before its sender sees it as sent. Writing each in a transaction
//! of its own costs one commit (one fsync, and on PostgreSQL a round trip
//! per statement) per request, and the commits queue behind the chain's
//! head (and a room's counter), one at a time. Here a request queues its
//! item and waits for the writer's turn: whoever gets the turn takes the
//! items queued so far (at most [`MAX_TURN`]) and writes them in one
//! transaction (in queue order, so the chain stays a chain and a room's
//! numbers follow the order of arrival), and each request is told when the
//! transaction that holds its item has committed — only then does it
//! answer. Items that arrive while one batch commits form the next batch.
//!
//! A batch either commits whole or not at all: a failed transaction fails
//! every item in it with the same error, and stores none of them. Within a
//! committed batch, the writer may still refuse one item on its own (a room
//! that is not the municipality's): that item's own answer says so.
//!
//! A batch that holds other requests' items is written by a task of its
//! own, so a request that goes away (the client hung up) never leaves the
//! others' items half written. An item that finds the writer idle and
//! nobody else waiting is written in its own request's future, as a batch
//! of one (its turn taken meanwhile, so later items queue behind it).
//!
//! A request whose item another request's turn took waits for its answer
//! only, not for the turn: it leaves the queue for the turn as soon as its
//! answer comes. (It used to take the turn first and then find the queue
//! empty — so every request passed through the turn one by one, each behind
//! whichever batch was being written then, and a committed post could wait
//! for several later batches before its answer left: the chat's throughput
//! bench, BENCHMARKS.md.)
//!
//! Each batcher counts its turns and their sizes ([`Batcher::stats`]): the
//! metrics show them (how many items a turn actually carries).
//!
//! A batcher made with [`Batcher::on_writer_thread`] (SQLite's) writes its
//! turns on a thread of its own ([`writer_thread`]) instead of the node's
//! tasks. A turn awaits each of its statements, and the connection's worker
//! thread wakes it from outside the node's runtime: woken so, a task of the
//! node waits in the runtime's shared queue behind the sockets' work (a
//! runtime worker looks there only every few dozen tasks) — a turn of a dozen
//! statements took ~14 ms of which its statements ran ~4 (the chat's
//! throughput bench, BENCHMARKS.md, 2026-12-06 13:15 UTC), and every post
//! waited for it. On its own thread a turn runs as soon as a statement ends.

use crate::{Result, StoreError};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::FamilyId;

/// The most items one transaction takes: the rest wait for the next turn
/// (bounds a batch's statements and bound values).
pub const MAX_TURN: usize = 500;

/// One audit line waiting for its batch: what the chain needs of it.
#[derive(Debug, Clone)]
pub struct PendingLine {
    pub ctx: AuditContext,
    pub action: AuditAction,
    pub family: Option<FamilyId>,
    pub detail: String,
}

/// How a batch ended for one of its items: its own answer, or the batch's
/// failure as every item is told (a store error is not `Clone`):
/// `Err((transient, message))`.
type Outcome<R> = std::result::Result<R, (bool, String)>;

type Waiting<T, R> = Vec<(T, oneshot::Sender<Outcome<R>>)>;

/// The queue of items of one kind and the writer's turn. One per store
/// handle (shared by its clones).
pub struct Batcher<T, R> {
    queue: Mutex<Waiting<T, R>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    stats: Arc<Counts>,
    /// Turns written on [`writer_thread`] rather than the node's tasks.
    own_thread: bool,
}

impl<T, R> Default for Batcher<T, R> {
    fn default() -> Self {
        Self { queue: Mutex::new(Vec::new()), turn: Arc::default(), stats: Arc::default(), own_thread: false }
    }
}

impl<T, R> Batcher<T, R> {
    /// A batcher whose turns are written on [`writer_thread`] (see the
    /// module's notes): for a back end whose connection runs its statements
    /// on a thread of its own (SQLite).
    pub fn on_writer_thread() -> Self {
        Self { own_thread: true, ..Self::default() }
    }
}

/// The process's writer thread: a single-threaded runtime of its own, where
/// the turns of [`Batcher::on_writer_thread`] batchers are written. Made on
/// first use; `None` if the thread could not be made (turns are then
/// written on the node's tasks, as before).
pub fn writer_thread() -> Option<&'static tokio::runtime::Handle> {
    static WRITER: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    WRITER
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("tsunagu-writer".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Upper bounds of the turn-size buckets ([`TurnStats::buckets`]); the
/// last bucket is [`MAX_TURN`].
pub const TURN_BUCKETS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, MAX_TURN as u64];

#[derive(Default)]
struct Counts {
    turns: AtomicU64,
    items: AtomicU64,
    buckets: [AtomicU64; TURN_BUCKETS.len()],
}

/// A batcher's turns so far: how many, how many items they carried, and
/// how many turns carried at most each bound of [`TURN_BUCKETS`] (not
/// cumulative: each turn is counted in its smallest bucket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnStats {
    pub turns: u64,
    pub items: u64,
    pub buckets: [u64; TURN_BUCKETS.len()],
}

impl Counts {
    fn record(&self, n: usize) {
        let n = n as u64;
        self.turns.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(n, Ordering::Relaxed);
        let i = TURN_BUCKETS.iter().position(|b| n <= *b).unwrap_or(TURN_BUCKETS.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }
}

impl<T, R> Batcher<T, R> {
    /// The turns taken so far.
    pub fn stats(&self) -> TurnStats {
        let c = &self.stats;
        let mut buckets = [0; TURN_BUCKETS.len()];
        for (b, n) in buckets.iter_mut().zip(&c.buckets) {
            *b = n.load(Ordering::Relaxed);
        }
        TurnStats { turns: c.turns.load(Ordering::Relaxed), items: c.items.load(Ordering::Relaxed), buckets }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Queues `item` and returns its answer once the transaction holding it
    /// has committed (or the batch's error if it failed). `write` writes a
    /// batch, in order, in one transaction, commits it, and answers one `R`
    /// per item, in the same order.
    pub async fn submit<F, Fut>(&self, item: T, write: F) -> Result<R>
    where
        F: FnOnce(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        self.submit_in(item, tracing::Span::current(), write).await
    }

    /// [`Batcher::submit`], the batch written (if this request takes the
    /// turn) in `span` — a child of the request's, named after the batch.
    pub async fn submit_in<F, Fut>(&self, item: T, span: tracing::Span, write: F) -> Result<R>
    where
        F: FnOnce(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        // Alone: nobody's batch is being written and nobody else waits. The
        // item is written here, in this request's own future, without a
        // task to hand it to (one client waited ~0.1 ms for that hand-off
        // before its line was sent: BENCHMARKS.md). Nothing of another
        // request's is at stake if this one goes away mid-write: its turn
        // ends and the next batch goes on. Not for a batcher with a writer
        // thread of its own (its statements would run on the node's tasks).
        if !self.own_thread {
            if let Ok(turn) = self.turn.clone().try_lock_owned() {
                let alone = self.queue.lock().map_err(|_| stopped())?.is_empty();
                if alone {
                    self.stats.record(1);
                    let answer = tracing::Instrument::instrument(write(vec![item]), span).await;
                    drop(turn);
                    return match answer {
                        Ok(mut answers) if answers.len() == 1 => answers.pop().ok_or_else(short_answer),
                        Ok(_) => Err(short_answer()),
                        Err(e) => Err(e),
                    };
                }
                // Others wait already: ours joins the queue, and the turn is
                // given back to be asked for in order below.
                drop(turn);
            }
        }
        let (done, mut outcome) = oneshot::channel();
        self.queue.lock().map_err(|_| stopped())?.push((item, done));
        // The turn, unless another request's turn took our item and its
        // answer comes first (then we leave the turn's queue at once).
        let turn = tokio::select! {
            biased;
            answer = &mut outcome => return answered(answer),
            turn = self.turn.clone().lock_owned() => turn,
        };
        let batch = {
            let mut queue = self.queue.lock().map_err(|_| stopped())?;
            let take = queue.len().min(MAX_TURN);
            let rest = queue.split_off(take);
            std::mem::replace(&mut *queue, rest)
        };
        if !batch.is_empty() {
            // Our turn: the items queued so far (ours among them, unless the
            // batch before took it) go into one transaction, written in the
            // span of the request that took the turn.
            let stats = self.stats.clone();
            let write = async move {
                let (items, waiting): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let n = items.len();
                stats.record(n);
                match write(items).await {
                    Ok(answers) if answers.len() == n => {
                        for (w, a) in waiting.into_iter().zip(answers) {
                            let _ = w.send(Ok(a));
                        }
                    }
                    Ok(_) => {
                        let e = (false, WRONG_COUNT.to_owned());
                        for w in waiting {
                            let _ = w.send(Err(e.clone()));
                        }
                    }
                    Err(e) => {
                        let transient = matches!(e, StoreError::Unavailable(_));
                        let message = match std::error::Error::source(&e) {
                            Some(source) => format!("{e}: {source}"),
                            None => e.to_string(),
                        };
                        for w in waiting {
                            let _ = w.send(Err((transient, message.clone())));
                        }
                    }
                }
                drop(turn);
            };
            let write = tracing::Instrument::instrument(write, span);
            match self.own_thread.then(writer_thread).flatten() {
                Some(writer) => drop(writer.spawn(write)),
                None => drop(tokio::spawn(write)),
            }
        } else {
            drop(turn);
        }
        answered(outcome.await)
    }
}

/// An item's answer as its batch told it.
fn answered<R>(outcome: std::result::Result<Outcome<R>, oneshot::error::RecvError>) -> Result<R> {
    match outcome {
        Ok(Ok(r)) => Ok(r),
        Ok(Err((true, msg))) => Err(StoreError::Unavailable(msg.into())),
        Ok(Err((false, msg))) => Err(StoreError::Other(msg.into())),
        Err(_) => Err(stopped()),
    }
}

/// Reads' audit lines (#16): a batch answers nothing but its commit.
#[derive(Default)]
pub struct GroupCommit(Batcher<PendingLine, ()>);

impl GroupCommit {
    /// Lines written on [`writer_thread`] (see [`Batcher::on_writer_thread`]).
    pub fn on_writer_thread() -> Self {
        Self(Batcher::on_writer_thread())
    }

    /// The turns taken so far.
    pub fn stats(&self) -> TurnStats {
        self.0.stats()
    }

    /// Queues `line` and returns once the transaction holding it has
    /// committed (or failed). `write` writes a batch, in order, in one
    /// transaction, and commits it.
    pub async fn submit<F, Fut>(&self, line: PendingLine, write: F) -> Result<()>
    where
        F: FnOnce(Vec<PendingLine>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        // A line about another family than the decision's is refused here,
        // before it can share a batch with others.
        line.ctx.covers(line.family)?;
        self.0
            .submit(line, move |lines| {
                let n = lines.len();
                let written = write(lines);
                async move { written.await.map(|()| vec![(); n]) }
            })
            .await
    }
}

const WRONG_COUNT: &str = "the writer answered a batch with the wrong number of answers";

fn short_answer() -> StoreError {
    StoreError::Other(WRONG_COUNT.into())
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the writer stopped before the batch was written".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_item_gets_its_own_answer_or_the_batchs_failure() {
        let b: Arc<Batcher<u32, u32>> = Arc::default();
        let mut tasks = vec![];
        for i in 0..50u32 {
            let b = b.clone();
            tasks.push(tokio::spawn(async move {
                b.submit(i, |items| async move { Ok(items.into_iter().map(|x| x * 2).collect()) }).await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap_or_else(|e| panic!("{e}")).ok(), Some(i as u32 * 2));
        }
        let failed = b.submit(1, |_| async { Err(StoreError::Unavailable("down".into())) }).await;
        assert!(matches!(failed, Err(StoreError::Unavailable(_))));
        let short = b.submit(1, |_| async { Ok(vec![]) }).await;
        assert!(matches!(short, Err(StoreError::Other(_))));
        // Every turn counted, with its size.
        let stats = b.stats();
        assert_eq!(stats.items, 52);
        assert!(stats.turns >= 3 && stats.turns <= 52, "{stats:?}");
        assert_eq!(stats.buckets.iter().sum::<u64>(), stats.turns);
    }

    #[tokio::test]
    async fn an_item_alone_is_written_in_its_own_future_and_a_dropped_one_frees_the_turn() {
        let b: Arc<Batcher<u32, u32>> = Arc::default();
        let caller = tokio::task::spawn(async {
            let b: Arc<Batcher<u32, u32>> = Arc::default();
            let me = tokio::task::id();
            let written_in = b
                .submit(3, move |items| async move {
                    assert_eq!(items, vec![3]);
                    Ok(vec![u32::from(tokio::task::id() == me)])
                })
                .await;
            (written_in.ok(), b.stats().turns)
        });
        assert_eq!(caller.await.ok(), Some((Some(1), 1)), "written by the caller's own task, one turn");
        // One that goes away mid-write leaves the turn free for the next.
        let stalled = b.submit(1, |_| std::future::pending());
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), stalled).await.is_err());
        let next = b.submit(2, |items| async move { Ok(items) });
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), next).await;
        assert_eq!(next.ok().and_then(|r| r.ok()), Some(2));
        // A wrong count is an error, not a panic or a hang.
        assert!(matches!(b.submit(4, |_| async { Ok(vec![]) }).await, Err(StoreError::Other(_))));
    }

    #[tokio::test]
    async fn an_item_another_turn_took_is_answered_without_waiting_for_the_turn() {
        let b: Arc<Batcher<u32, u32>> = Arc::default();
        // A later batch holds the turn (being written, for as long as it takes).
        let held = b.turn.clone().lock_owned().await;
        let waiting = {
            let b = b.clone();
            tokio::spawn(async move { b.submit(7, |_| async { Ok(vec![0]) }).await })
        };
        // Once queued, an earlier turn takes the item and answers it.
        let taken = loop {
            if let Some(taken) = b.queue.lock().unwrap_or_else(|e| panic!("{e}")).pop() {
                break taken;
            }
            tokio::task::yield_now().await;
        };
        let _ = taken.1.send(Ok(14));
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await;
        assert_eq!(answer.ok().and_then(|r| r.ok()).and_then(|r| r.ok()), Some(14));
        drop(held);
    }
}
