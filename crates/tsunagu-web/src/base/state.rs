//! What every handler is given: the store, the clock, the configuration and
//! the password-hashing threads.

use crate::base::auth;
use crate::base::config::WebConfig;
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
    /// Wake-ups for waiting sockets and long polls (`events`).
    pub events: crate::base::events::Events,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: WebConfig) -> Self {
        let hashing = auth::HashLimiter::new(config.hash_concurrency, config.hash_wait);
        Self { store, clock, config: Arc::new(config), hashing, events: Default::default() }
    }
}
