//! What every handler is given: the store, the clock, the configuration,
//! the password-hashing threads, and the node's metrics and shutdown flag.

use crate::base::auth;
use crate::base::config::WebConfig;
use crate::base::metrics::Metrics;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tsunagu_domain::clock::Clock;
use tsunagu_store::Store;

/// Cloned for every request (axum hands each extractor and middleware its
/// own copy): one shared allocation, so a clone is one counter, not one per
/// field (#16: the clones and drops of the fields were a few percent of the
/// open-record request under many clients). The fields are read through it.
#[derive(Clone)]
pub struct AppState(Arc<AppStateFields>);

impl std::ops::Deref for AppState {
    type Target = AppStateFields;

    fn deref(&self) -> &AppStateFields {
        &self.0
    }
}

pub struct AppStateFields {
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
        Self(Arc::new(AppStateFields {
            store,
            clock,
            config: Arc::new(config),
            hashing,
            metrics,
            draining: Arc::default(),
            events,
            shared: Default::default(),
        }))
    }
}
