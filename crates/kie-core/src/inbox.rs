//! Receiving callbacks: verify, take each delivery once, confirm it with recordInfo, and
//! hand what recordInfo says to the application (a broadcast channel) and to the waits
//! that watch the task.
//!
//! kie.ai signs only `taskId + "." + timestamp`, not the body, so whoever captured one
//! delivery can post any body under its headers for the verifier's tolerance (five
//! minutes). A callback's body is therefore only a hint that something happened to a
//! task: what subscribers and waits see is the record kie.ai's recordInfo returns, one
//! call per new delivery, coalesced per task. A captured signature buys an attacker a
//! few recordInfo calls at most, and never a say in what the application sees.
//!
//! The inbox is framework-free ([`CallbackInbox::receive`] takes a body and headers);
//! with the `axum` feature, [`CallbackInbox::router`] serves it, and
//! [`receiver::serve`] runs that router with a header timeout and a connection cap.

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod receiver;
mod store;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tracing::Instrument as _;

use crate::callback::{Callback, CallbackError, CallbackVerifier};
use crate::client::Client;
use crate::record::TaskRecord;
use store::{Store, Taken};

/// How many bytes an inbox keeps by default ([`CallbackInbox::max_bytes`]): delivery
/// identities and confirmed records for a few thousand recent tasks.
pub const DEFAULT_INBOX_BYTES: usize = 8 * 1024 * 1024;

/// How many confirmed records a subscriber may fall behind before it skips the oldest.
const SUBSCRIBER_BACKLOG: usize = 1024;

/// How many times a confirmation tries recordInfo when it fails transiently (each try
/// with the client's own retries), and how long it waits between tries.
const CONFIRM_TRIES: u32 = 3;
const CONFIRM_RETRY_DELAY: Duration = Duration::from_secs(30);

/// What became of one delivery. The router answers 200 to both, so that kie.ai stops
/// retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Receipt {
    /// A delivery the inbox had not taken. Unless the task's final record is already
    /// confirmed, the inbox asks recordInfo what happened and tells subscribers and
    /// waits what it says.
    New,
    /// A delivery taken before (same signature and body), or one more body under a
    /// signature that already carried a few: dropped at no cost.
    Duplicate,
}

/// Verifies callbacks, takes each delivery once, confirms it with recordInfo, and hands
/// the confirmed record to subscribers and waits. Cheap to clone: clones share one
/// inbox.
///
/// Its memory is bounded ([`CallbackInbox::max_bytes`]): it keeps small keys per
/// delivery and the last confirmed record per task, never a callback body, and forgets
/// the tasks it heard of least recently first, except those a wait is watching.
///
/// # Examples
///
/// With any web framework, hand it the raw body and the headers:
///
/// ```no_run
/// use kie_core::{CallbackInbox, CallbackVerifier, Receipt};
///
/// # async fn run(client: kie_core::Client, body: &[u8], headers: &reqwest::header::HeaderMap) -> Result<(), Box<dyn std::error::Error>> {
/// let inbox = CallbackInbox::new(client, CallbackVerifier::new("your-webhook-key"));
/// let mut confirmed = inbox.subscribe(); // records as recordInfo returned them
/// match inbox.receive(body, headers)? {
///     Receipt::New => {}                 // confirmed in the background
///     _ => {}                            // taken before: nothing to do
/// }
/// let record = confirmed.recv().await?;
/// println!("{} is {}", record.task_id, record.state);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CallbackInbox {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    verifier: Option<CallbackVerifier>,
    store: Mutex<Store>,
    confirmed: broadcast::Sender<TaskRecord>,
}

impl fmt::Debug for CallbackInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackInbox")
            .field("client", &self.inner.client)
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

impl CallbackInbox {
    /// An inbox that accepts only callbacks signed with the verifier's key, and confirms
    /// them with `client`.
    pub fn new(client: Client, verifier: CallbackVerifier) -> Self {
        Self::with(client, Some(verifier))
    }

    /// An inbox that accepts unsigned callbacks, for accounts without a webhook key.
    /// Anyone who can reach its URL can then post callbacks for any task id, and make
    /// the inbox spend a recordInfo call on each new one (what subscribers and waits see
    /// still comes from recordInfo): keep such URLs private, or set a webhook key.
    pub fn unverified(client: Client) -> Self {
        Self::with(client, None)
    }

    fn with(client: Client, verifier: Option<CallbackVerifier>) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                verifier,
                store: Mutex::new(Store::new(DEFAULT_INBOX_BYTES)),
                confirmed: broadcast::channel(SUBSCRIBER_BACKLOG).0,
            }),
        }
    }

    /// How many bytes of delivery identities and confirmed records to keep (default
    /// [`DEFAULT_INBOX_BYTES`]). Past it, the tasks heard of least recently are
    /// forgotten, but never one a wait is watching or whose confirmation is under way. A
    /// forgotten task costs one more recordInfo call if a callback for it comes again,
    /// and a wait that starts for it later polls instead of finding its record here.
    #[must_use]
    pub fn max_bytes(self, bytes: usize) -> Self {
        self.store().set_max_bytes(bytes);
        self
    }

    /// The confirmed records, for the application: each as kie.ai's recordInfo returned
    /// it after a callback came (state, percent and result URLs are kie.ai's, never a
    /// callback body's), once per change of state or percent, and nothing after a
    /// task's final record. A receiver that falls more than 1024 records behind skips
    /// the oldest.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskRecord> {
        self.inner.confirmed.subscribe()
    }

    /// Takes one delivery: verifies it (if the inbox has a key), and if it is new, starts
    /// its confirmation in the background and returns at once.
    ///
    /// # Errors
    ///
    /// The [`CallbackError`] of verification or parsing; nothing is taken.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, when a confirmation must start (every axum, actix-web or
    /// poem handler runs inside one).
    pub fn receive(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Receipt, CallbackError> {
        let (callback, signed_at) = match &self.inner.verifier {
            Some(verifier) => {
                let (callback, signed_at) = verifier.verify_signed_at(body, headers)?;
                (callback, Some(signed_at))
            }
            None => (Callback::parse(body)?, None),
        };
        let task_id = callback.record.task_id;
        let taken = {
            let mut store = self.store();
            let digest = store.digest(body);
            store.take(&task_id, signed_at, digest)
        };
        match taken {
            Taken::Duplicate => {
                tracing::debug!(%task_id, "callback dropped: already received");
                Ok(Receipt::Duplicate)
            }
            Taken::New { confirm } => {
                tracing::info!(%task_id, "callback received");
                if confirm {
                    self.confirm(task_id);
                }
                Ok(Receipt::New)
            }
        }
    }

    /// Registers a wait's interest in `task_id`, until the [`Watch`] is dropped.
    pub(crate) fn watch(&self, task_id: &str) -> Watch {
        let mut updates = self.store().watch(task_id);
        if updates.borrow().is_some() {
            // A record confirmed before the wait began is news to it.
            updates.mark_changed();
        }
        Watch {
            inbox: self.clone(),
            task_id: task_id.to_owned(),
            updates,
        }
    }

    /// Confirms `task_id` with recordInfo in the background, again while deliveries came
    /// during the last call, and publishes what is news.
    fn confirm(&self, task_id: String) {
        let inbox = self.clone();
        let span = tracing::info_span!("kie.callback.confirm", %task_id);
        tokio::spawn(
            async move {
                loop {
                    let record = inbox.fetch(&task_id).await;
                    let (news, again) = inbox.store().confirmed(&task_id, record);
                    if let Some(record) = news {
                        // No subscriber is fine: the application may only use waits.
                        let _ = inbox.inner.confirmed.send(record);
                    }
                    if !again {
                        return;
                    }
                }
            }
            .instrument(span),
        );
    }

    /// The task's record, or `None` after recordInfo failed: then nothing is published,
    /// and waits fall back to polling.
    async fn fetch(&self, task_id: &str) -> Option<TaskRecord> {
        let mut tries = 1;
        loop {
            match self.inner.client.record(task_id).await {
                Ok(record) => return Some(record),
                Err(error) if error.is_transient() && tries < CONFIRM_TRIES => {
                    tracing::warn!(%error, "could not confirm a callback; trying again");
                    self.inner.client.timer().sleep(CONFIRM_RETRY_DELAY).await;
                    tries += 1;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not confirm a callback; nothing delivered");
                    return None;
                }
            }
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A wait's interest in a task's confirmed records. While it lives, the inbox keeps the
/// task.
pub(crate) struct Watch {
    inbox: CallbackInbox,
    task_id: String,
    updates: watch::Receiver<Option<TaskRecord>>,
}

impl Watch {
    /// The latest confirmed record, if one came since the last taken, without waiting.
    pub(crate) fn take(&mut self) -> Option<TaskRecord> {
        if self.updates.has_changed().unwrap_or(false) {
            self.updates.borrow_and_update().clone()
        } else {
            None
        }
    }

    /// The next confirmed record, when it comes. Cancel-safe: a record is taken only
    /// when this returns it.
    pub(crate) async fn next(&mut self) -> TaskRecord {
        loop {
            if self.updates.changed().await.is_err() {
                // The inbox outlives this watch (it holds a clone), so this never
                // happens; were it to, the wait's fallback polls still end it.
                std::future::pending::<()>().await;
            }
            if let Some(record) = self.updates.borrow_and_update().clone() {
                return record;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.inbox.store().unwatch(&self.task_id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde_json::json;
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::callback::signed_headers;
    use crate::record::TaskState;

    const KEY: &str = "whk-CANARY-inbox";
    const API_KEY: &str = "sk-CANARY-inbox";

    fn client(base: &str) -> Client {
        Client::builder()
            .api_key(API_KEY)
            .base_url(base)
            .timer(Arc::new(crate::time::VirtualTimer::new()))
            .build()
            .expect("a valid configuration")
    }

    fn headers(task: &str, signed_at: u64) -> reqwest::header::HeaderMap {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in signed_headers(KEY, task, signed_at) {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn body(task: &str, state: &str) -> Vec<u8> {
        json!({"code": 200, "msg": "success", "data": {"taskId": task, "state": state}})
            .to_string()
            .into_bytes()
    }

    /// recordInfo answers for `task`: each state in turn, then the last one again.
    async fn kie(task: &str, states: &[&str]) -> MockServer {
        let server = MockServer::start().await;
        for (n, state) in states.iter().enumerate() {
            let data = json!({
                "taskId": task,
                "state": state,
                "resultJson": json!({"resultUrls": ["https://files.example/v.mp4"]}).to_string(),
            });
            let mock = Mock::given(path("/api/v1/jobs/recordInfo"))
                .and(query_param("taskId", task))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"code": 200, "msg": "success", "data": data})),
                );
            let mock = if n + 1 < states.len() {
                mock.up_to_n_times(1).with_priority(1)
            } else {
                mock.with_priority(2)
            };
            mock.mount(&server).await;
        }
        server
    }

    async fn record_info_calls(server: &MockServer) -> usize {
        server.received_requests().await.unwrap_or_default().len()
    }

    #[tokio::test]
    async fn subscribers_get_what_record_info_says_not_what_the_body_says() {
        let server = kie("t1", &["generating", "success"]).await;
        let inbox = CallbackInbox::new(client(&server.uri()), CallbackVerifier::new(KEY));
        let mut events = inbox.subscribe();
        let signed = headers("t1", now());
        // Within one runtime turn: the first starts a confirmation, the next two ask for
        // one more round, the fifth body under the signature is a duplicate.
        let receipts: Vec<Receipt> = ["success", "fail", "flood-1", "flood-2", "flood-3"]
            .iter()
            .map(|state| inbox.receive(&body("t1", state), &signed).unwrap())
            .collect();
        assert_eq!(receipts[..4], [Receipt::New; 4]);
        assert_eq!(receipts[4], Receipt::Duplicate);
        let first = events.recv().await.unwrap();
        assert_eq!(first.state, TaskState::Generating);
        let second = events.recv().await.unwrap();
        assert_eq!(second.state, TaskState::Success);
        assert_eq!(record_info_calls(&server).await, 2);
        // Confirmed final: a new delivery is taken, and costs nothing.
        assert_eq!(
            inbox.receive(&body("t1", "success"), &headers("t1", now() + 1)),
            Ok(Receipt::New)
        );
        assert!(events.try_recv().is_err());
        assert_eq!(record_info_calls(&server).await, 2);
    }

    #[tokio::test]
    async fn refused_deliveries_take_nothing() {
        let server = kie("t1", &["success"]).await;
        let inbox = CallbackInbox::new(client(&server.uri()), CallbackVerifier::new(KEY));
        let mut wrong = headers("t1", now());
        wrong.insert(
            crate::callback::SIGNATURE_HEADER,
            crate::callback::sign("another key", "t1", now())
                .parse()
                .unwrap(),
        );
        assert_eq!(
            inbox.receive(&body("t1", "success"), &wrong),
            Err(CallbackError::BadSignature)
        );
        assert!(!inbox.store().holds("t1"));
        let open = CallbackInbox::unverified(client(&server.uri()));
        let mut events = open.subscribe();
        let none = reqwest::header::HeaderMap::new();
        assert_eq!(
            open.receive(&body("t1", "success"), &none),
            Ok(Receipt::New)
        );
        assert_eq!(
            open.receive(&body("t1", "success"), &none),
            Ok(Receipt::Duplicate)
        );
        assert_eq!(events.recv().await.unwrap().state, TaskState::Success);
    }

    /// recordInfo for any task: generating.
    struct Generating;

    impl wiremock::Respond for Generating {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let task = request
                .url
                .query_pairs()
                .find(|(name, _)| name == "taskId")
                .map(|(_, id)| id.into_owned())
                .unwrap_or_default();
            let data = json!({"taskId": task, "state": "generating"});
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 200, "msg": "success", "data": data}))
        }
    }

    #[tokio::test]
    async fn a_flood_of_tasks_stays_within_the_budget_and_spares_a_watched_task() {
        let server = MockServer::start().await;
        Mock::given(path("/api/v1/jobs/recordInfo"))
            .respond_with(Generating)
            .mount(&server)
            .await;
        let budget = 64 * 1024;
        let inbox = CallbackInbox::unverified(client(&server.uri())).max_bytes(budget);
        let mut events = inbox.subscribe();
        let mut watch = inbox.watch("watched");
        let none = reqwest::header::HeaderMap::new();
        assert_eq!(
            inbox.receive(&body("watched", "success"), &none),
            Ok(Receipt::New)
        );
        // Anyone can post to an inbox without a key: here, 2,000 made-up tasks.
        let flood = 2_000;
        for n in 0..flood {
            inbox
                .receive(&body(&format!("made-up-{n}"), "success"), &none)
                .unwrap();
        }
        let mut confirmed = 0;
        while confirmed <= flood {
            confirmed += match events.recv().await {
                Ok(_) => 1,
                Err(broadcast::error::RecvError::Lagged(skipped)) => skipped as usize,
                Err(closed) => panic!("{closed}"),
            };
        }
        assert!(inbox.store().bytes() <= budget);
        assert!(inbox.store().holds("watched"));
        assert!(!inbox.store().holds("made-up-0"));
        let record = watch.take().expect("the watched task's record");
        assert_eq!(record.state, TaskState::Generating);
    }

    #[test]
    fn debug_never_shows_a_key() {
        let inbox = CallbackInbox::new(client("http://127.0.0.1:9"), CallbackVerifier::new(KEY));
        let text = format!("{inbox:?} {inbox:#?}");
        assert!(!text.contains("CANARY"), "{text}");
    }
}
