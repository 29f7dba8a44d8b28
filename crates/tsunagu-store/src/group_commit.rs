//! Group commit of audit lines (#16): the lines of concurrent reads share
//! one write transaction.
//!
//! A read's audit line must be durable before its answer leaves. Writing
//! each line in a transaction of its own costs one commit (one fsync, and on
//! PostgreSQL a round trip per statement) per read, and the commits queue
//! behind the chain's head, one at a time. Here a request queues its line
//! and waits for the writer's turn: whoever gets the turn takes every line
//! queued so far and writes them in one transaction (in queue order, so the
//! chain stays a chain), and each request is told when the transaction that
//! holds its line has committed — only then does it answer. Lines that
//! arrive while one batch commits form the next batch.
//!
//! The batch is written by a task of its own, so a request that goes away
//! (the client hung up) never leaves the others' lines half written.

use crate::{Result, StoreError};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::FamilyId;

/// One audit line waiting for its batch: what the chain needs of it.
#[derive(Debug, Clone)]
pub struct PendingLine {
    pub ctx: AuditContext,
    pub action: AuditAction,
    pub family: Option<FamilyId>,
    pub detail: String,
}

/// How a batch ended, as each of its requests is told (a store error is
/// not `Clone`): `Err((transient, message))`.
type Outcome = std::result::Result<(), (bool, String)>;

type Waiting = Vec<(PendingLine, oneshot::Sender<Outcome>)>;

/// The queue of lines and the writer's turn. One per store handle (shared
/// by its clones).
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Waiting>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl GroupCommit {
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
        let (done, outcome) = oneshot::channel();
        self.queue.lock().map_err(|_| stopped())?.push((line, done));
        let turn = self.turn.clone().lock_owned().await;
        let batch = std::mem::take(&mut *self.queue.lock().map_err(|_| stopped())?);
        if !batch.is_empty() {
            // Our turn: every line queued so far (ours among them, unless the
            // batch before took it) goes into one transaction, written in the
            // span of the request that took the turn.
            let write = async move {
                let (lines, waiting): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let result = match write(lines).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let transient = matches!(e, StoreError::Unavailable(_));
                        let message = match std::error::Error::source(&e) {
                            Some(source) => format!("{e}: {source}"),
                            None => e.to_string(),
                        };
                        Err((transient, message))
                    }
                };
                for w in waiting {
                    let _ = w.send(result.clone());
                }
                drop(turn);
            };
            tokio::spawn(tracing::Instrument::instrument(write, tracing::Span::current()));
        } else {
            drop(turn);
        }
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((true, msg))) => Err(StoreError::Unavailable(msg.into())),
            Ok(Err((false, msg))) => Err(StoreError::Other(msg.into())),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the audit writer stopped before the line was written".into())
}
