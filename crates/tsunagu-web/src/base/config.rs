//! Settings of the HTTP edge. Filled by the binary from flags and
//! `TSUNAGU_` environment variables; defaults suit the embedded demo.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout: Duration,
    /// Mark cookies `Secure` (set when served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted
    /// proxy). Alone it means one proxy; see `trusted_proxies`.
    pub trust_forwarded_for: bool,
    /// How many proxies we run in front of the service, each appending to
    /// `X-Forwarded-For`; the client address is the entry the outermost of
    /// them added (`forwarded::client_addr`). 0 with `trust_forwarded_for`
    /// off: the connection's address.
    pub trusted_proxies: usize,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Failed sign-ins for one account within `signin_window` before it is
    /// locked: wrong passwords and wrong second-factor codes alike, counted
    /// from its last full sign-in (a right password alone clears nothing).
    /// While locked even the right password and code are refused.
    pub max_failed_signins_per_user: i64,
    /// Failed sign-ins from one address within `signin_window` before it is refused.
    pub max_failed_signins_per_addr: i64,
    /// How long failures count: a lock lifts when enough of them are older.
    pub signin_window: Duration,
    /// Codes one half-signed-in session may take (second factor or
    /// enrolment); after the last wrong one it ends and sign-in starts over.
    pub max_codes_per_session: i64,
    /// Password hashes (argon2id, about 19 MiB each) computed at once.
    pub hash_concurrency: usize,
    /// How long a sign-in waits for a turn to hash before it is answered
    /// 503 with `Retry-After`.
    pub hash_wait: Duration,
    /// Where LINE's Messaging API is reached for pushes (chat on LINE):
    /// plain HTTP only, so in production an egress proxy that forwards to
    /// `https://api.line.me` over TLS; the tests' fake LINE server.
    pub line_api_base: String,
    /// LINE webhook events older than this are refused as replays.
    pub line_replay_window: Duration,
    /// Reminders by e-mail are sent here (`tsunagu serve --smtp-relay`);
    /// without, the reminders page says they are not available (#10).
    pub email_reminders: bool,
    /// Reminders by web push (`tsunagu serve --push-proxy`): the VAPID
    /// public key the page subscribes with; without, the page offers no push.
    pub push_public_key: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            secure_cookies: false,
            trust_forwarded_for: false,
            trusted_proxies: 0,
            max_body_bytes: 64 * 1024,
            max_failed_signins_per_user: 5,
            max_failed_signins_per_addr: 50,
            signin_window: Duration::from_secs(15 * 60),
            max_codes_per_session: 5,
            hash_concurrency: std::thread::available_parallelism().map(usize::from).unwrap_or(2),
            hash_wait: Duration::from_secs(2),
            line_api_base: "http://127.0.0.1:8081".into(),
            line_replay_window: Duration::from_secs(10 * 60),
            email_reminders: false,
            push_public_key: None,
        }
    }
}

impl WebConfig {
    /// The number of trusted proxies in effect: `trusted_proxies`, or one
    /// when only the older `trust_forwarded_for` is set.
    pub fn forwarded_hops(&self) -> usize {
        match (self.trusted_proxies, self.trust_forwarded_for) {
            (0, true) => 1,
            (n, _) => n,
        }
    }
}
