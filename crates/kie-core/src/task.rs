//! Task handles: what `submit` returns, and what a restarted program rebuilds from an id.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::record::TaskRecord;
use crate::wait::Wait;

/// A task's identity, serializable: store it, and nothing paid for is ever lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRef {
    /// kie.ai's task id.
    pub id: String,
    /// The model id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl TaskRef {
    /// The task with this id (model unknown).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            model: None,
        }
    }

    /// The same task, with its model id.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

impl From<&str> for TaskRef {
    fn from(id: &str) -> Self {
        id.to_owned().into()
    }
}

impl From<String> for TaskRef {
    fn from(id: String) -> Self {
        TaskRef::new(id)
    }
}

/// A task at kie.ai, bound to the client that watches it.
///
/// It serializes as its [`TaskRef`] (`{"id": ..., "model": ...}`); rebuild it with
/// [`Client::task`].
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: kie_core::Client, task: kie_core::Task) -> Result<(), Box<dyn std::error::Error>> {
/// let saved = serde_json::to_string(&task)?;           // store it: nothing paid for is lost
/// // ... after a restart:
/// let task = client.task(serde_json::from_str::<kie_core::TaskRef>(&saved)?);
/// println!("{} is {}", task.id(), task.record().await?.state);
/// let video = task.wait().await?;
/// # let _ = video; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Task {
    client: Client,
    task: TaskRef,
    /// When createTask answered, on the client's timer: about when the task was
    /// created, so a wait knows its age without asking, and how fast the server's clock
    /// runs. `None` for a task this client did not create (recently).
    created_at: Option<Duration>,
}

impl Task {
    /// A task by its id: one this client created keeps its creation time.
    pub(crate) fn new(client: Client, task: TaskRef) -> Self {
        let created_at = client.inner.estimates.created_at(&task.id);
        Self {
            client,
            task,
            created_at,
        }
    }

    /// A task this client just created.
    pub(crate) fn created(client: Client, task: TaskRef) -> Self {
        let now = client.timer().now();
        client.inner.estimates.created(&task.id, now);
        Self {
            client,
            task,
            created_at: Some(now),
        }
    }

    /// When the task was created on the client's timer, if this client created it.
    pub(crate) fn created_at(&self) -> Option<Duration> {
        self.created_at
    }

    /// kie.ai's task id.
    pub fn id(&self) -> &str {
        &self.task.id
    }

    /// The model id, when known.
    pub fn model(&self) -> Option<&str> {
        self.task.model.as_deref()
    }

    /// The serializable identity.
    pub fn task_ref(&self) -> &TaskRef {
        &self.task
    }

    /// The client this task uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Fetches the task's current record.
    ///
    /// # Errors
    ///
    /// Any [`Error`] of recordInfo, carrying this task's id.
    pub async fn record(&self) -> Result<TaskRecord, Error> {
        self.client.record(&self.task.id).await
    }

    /// Waits for the task to finish, polling on the adaptive schedule
    /// ([`crate::PollSchedule::adaptive`]). Set
    /// options on the returned [`Wait`], then `.await` it (or take its event stream).
    pub fn wait(&self) -> Wait {
        Wait::new(self.clone())
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.task.id)
            .field("model", &self.task.model)
            .finish()
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.task.id)
    }
}

impl Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.task.serialize(serializer)
    }
}
