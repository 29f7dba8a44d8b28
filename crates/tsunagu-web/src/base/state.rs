//! What every handler is given: the store, the clock, the configuration,
//! the password-hashing threads, and the node's metrics and shutdown flag.

use crate::base::auth;
use crate::base::config::WebConfig;
use crate::base::metrics::Metrics;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tsunagu_domain::clock::Clock;
use tsunagu_store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    /// Password hashing, bounded to `config.hash_concurrency` at once.
    pub hashing: auth::HashLimiter,
    /// What the service counts (served on the metrics listener only).
    pub metrics: Arc<Metrics>,
    /// Set when the node begins to shut down: `/readyz` answers 503.
    pub draining: Arc<AtomicBool>,
    /// Wake-ups for waiting sockets and long polls (`events`).
    pub events: crate::base::events::Events,
    /// What capabilities keep beside the store for the node's life (`shared`).
    pub shared: crate::base::shared::Shared,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: WebConfig) -> Self {
        let hashing = auth::HashLimiter::new(config.hash_concurrency, config.hash_wait);
        let metrics: Arc<Metrics> = Arc::default();
        let events = crate::base::events::Events::across_nodes(&store, {
            let metrics = metrics.clone();
            Arc::new(move |up| metrics.set_wake_listener(up))
        });
        Self {
            store,
            clock,
            config: Arc::new(config),
            hashing,
            metrics,
            draining: Arc::default(),
            events,
            shared: Default::default(),
        }
    }
}
