//! Receiving callbacks: verify, drop duplicate deliveries, and hand each new callback to
//! the application (a broadcast channel) and to the waits that expect it.
//!
//! The inbox is framework-free ([`CallbackInbox::receive`] takes a body and headers);
//! with the `axum` feature, [`CallbackInbox::router`] serves it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, broadcast};

use crate::callback::{Callback, CallbackError, CallbackVerifier};

/// How many deliveries the inbox remembers to recognise duplicates, and how many
/// unclaimed final callbacks it keeps for waits that have not started yet.
const MEMORY: usize = 100_000;

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Receipt {
    /// A new callback, now delivered.
    New(Box<Callback>),
    /// The same task and state (and percent) was already received; dropped.
    Duplicate,
}

/// Verifies, de-duplicates and delivers callbacks. Cheap to clone: clones share one
/// inbox.
#[derive(Clone)]
pub struct CallbackInbox {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Option<CallbackVerifier>,
    memory: Mutex<Memory>,
    arrived: Notify,
    events: broadcast::Sender<Callback>,
}

#[derive(Default)]
struct Memory {
    seen: HashSet<DeliveryKey>,
    seen_order: VecDeque<DeliveryKey>,
    finished: HashMap<String, Callback>,
    finished_order: VecDeque<String>,
}

type DeliveryKey = (String, String, Option<u8>);

impl fmt::Debug for CallbackInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackInbox")
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

impl CallbackInbox {
    /// An inbox that accepts only callbacks signed with the verifier's key.
    pub fn new(verifier: CallbackVerifier) -> Self {
        Self::with(Some(verifier))
    }

    /// An inbox that accepts unsigned callbacks, for accounts without a webhook key.
    /// Anyone who can reach the URL can then post a callback: keep such URLs private,
    /// and rely on the confirming recordInfo call that callback-first waiting makes.
    pub fn unverified() -> Self {
        Self::with(None)
    }

    fn with(verifier: Option<CallbackVerifier>) -> Self {
        Self {
            inner: Arc::new(Inner {
                verifier,
                memory: Mutex::default(),
                arrived: Notify::new(),
                events: broadcast::channel(1024).0,
            }),
        }
    }

    /// New callbacks, in arrival order, for the application. A receiver that falls
    /// more than 1024 callbacks behind skips the oldest.
    pub fn subscribe(&self) -> broadcast::Receiver<Callback> {
        self.inner.events.subscribe()
    }

    /// Takes one delivery: verifies it (if the inbox has a key), parses it, drops it if
    /// already received, and delivers it.
    ///
    /// # Errors
    ///
    /// The [`CallbackError`] of verification or parsing; nothing is delivered.
    pub fn receive(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Receipt, CallbackError> {
        let callback = match &self.inner.verifier {
            Some(verifier) => verifier.verify_headers(body, headers)?,
            None => Callback::parse(body)?,
        };
        let key = (
            callback.task_id().to_owned(),
            callback.state().as_str().to_owned(),
            callback.record.progress,
        );
        {
            let mut memory = self.memory();
            if !memory.seen.insert(key.clone()) {
                return Ok(Receipt::Duplicate);
            }
            memory.seen_order.push_back(key);
            if memory.seen_order.len() > MEMORY
                && let Some(old) = memory.seen_order.pop_front()
            {
                memory.seen.remove(&old);
            }
            if callback.state().is_terminal() {
                let id = callback.task_id().to_owned();
                if memory
                    .finished
                    .insert(id.clone(), callback.clone())
                    .is_none()
                {
                    memory.finished_order.push_back(id);
                }
                if memory.finished_order.len() > MEMORY
                    && let Some(old) = memory.finished_order.pop_front()
                {
                    memory.finished.remove(&old);
                }
            }
        }
        tracing::info!(task_id = %callback.task_id(), state = %callback.state(), "callback received");
        // No subscriber is fine: the application may only use waits.
        let _ = self.inner.events.send(callback.clone());
        self.inner.arrived.notify_waiters();
        Ok(Receipt::New(Box::new(callback)))
    }

    /// The final callback received for `task_id`, if any.
    pub(crate) fn finished(&self, task_id: &str) -> Option<Callback> {
        self.memory().finished.get(task_id).cloned()
    }

    /// Completes at the next delivery. Enable it before checking [`Self::finished`] so
    /// that a delivery in between is not missed.
    pub(crate) fn arrival(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.arrived.notified()
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner
            .memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(feature = "axum")]
mod receiver {
    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::{CallbackInbox, Receipt};
    use crate::callback::CallbackError;

    /// The largest callback body accepted; kie.ai's are a few KB.
    pub const MAX_CALLBACK_BODY: usize = 256 * 1024;

    impl CallbackInbox {
        /// An axum router that takes callbacks on `POST /` (nest it where your
        /// `callBackUrl` points). It answers at once: 200 for a new or duplicate
        /// callback (so kie.ai stops retrying), 401 for a bad or missing signature, 400
        /// for a malformed body, 413 past [`MAX_CALLBACK_BODY`].
        pub fn router(&self) -> axum::Router {
            axum::Router::new()
                .route("/", post(take))
                .layer(DefaultBodyLimit::max(MAX_CALLBACK_BODY))
                .with_state(self.clone())
        }
    }

    async fn take(
        State(inbox): State<CallbackInbox>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        match inbox.receive(&body, &headers) {
            Ok(Receipt::New(_)) => (StatusCode::OK, "received"),
            Ok(Receipt::Duplicate) => (StatusCode::OK, "duplicate"),
            Err(e @ (CallbackError::Malformed(_) | CallbackError::NoTaskId)) => {
                tracing::warn!(error = %e, "callback refused");
                (StatusCode::BAD_REQUEST, "malformed callback")
            }
            Err(e) => {
                tracing::warn!(error = %e, "callback refused");
                (StatusCode::UNAUTHORIZED, "callback not verified")
            }
        }
    }
}

#[cfg(feature = "axum")]
pub use receiver::MAX_CALLBACK_BODY;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::signed_headers;
    use crate::record::TaskState;

    fn headers(key: &str, task: &str) -> reqwest::header::HeaderMap {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in signed_headers(key, task, now) {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    fn body(task: &str, state: &str) -> Vec<u8> {
        serde_json::json!({"code": 200, "msg": "success", "data": {"taskId": task, "state": state}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn duplicates_are_dropped_and_new_ones_delivered() {
        let inbox = CallbackInbox::new(CallbackVerifier::new("k"));
        let mut events = inbox.subscribe();
        let h = headers("k", "t1");
        assert!(matches!(
            inbox.receive(&body("t1", "generating"), &h),
            Ok(Receipt::New(_))
        ));
        assert!(matches!(
            inbox.receive(&body("t1", "success"), &h),
            Ok(Receipt::New(_))
        ));
        assert_eq!(
            inbox.receive(&body("t1", "success"), &h),
            Ok(Receipt::Duplicate)
        );
        assert_eq!(
            events.try_recv().unwrap().record.state,
            TaskState::Generating
        );
        assert_eq!(events.try_recv().unwrap().record.state, TaskState::Success);
        assert!(events.try_recv().is_err());
        assert_eq!(
            inbox.finished("t1").unwrap().record.state,
            TaskState::Success
        );
        assert!(inbox.finished("t2").is_none());
    }

    #[test]
    fn unverified_deliveries_deliver_nothing() {
        let inbox = CallbackInbox::new(CallbackVerifier::new("k"));
        let err = inbox
            .receive(&body("t1", "success"), &headers("other", "t1"))
            .unwrap_err();
        assert_eq!(err, CallbackError::BadSignature);
        assert!(inbox.finished("t1").is_none());
        let open = CallbackInbox::unverified();
        assert!(
            open.receive(&body("t1", "success"), &reqwest::header::HeaderMap::new())
                .is_ok()
        );
    }
}
