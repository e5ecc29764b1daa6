//! The budget of an account, kept in Redis: one window per limit for every process on
//! every machine, so that together they keep to kie.ai's limits and share them fairly.
//!
//! # The window
//!
//! Each limit has a sorted set of places, each scored by the moment it is held until.
//! A call let through is in flight: held until now + lease + window, where the lease
//! bounds how long the place of a process that died mid-call stays taken. Its release
//! sets now + window, so a place counts as [`LocalBudget`] counts it: from the moment
//! the call is let through until a window after its answer. One Lua script drops the
//! places whose time is up and admits only while fewer than `max` remain, atomically:
//! no two processes can take the last place. A take whose caller stops waiting before
//! Redis answers frees the place it may have taken at once (`Asking`), so only a
//! process that dies holds a place for the lease.
//!
//! # Fairness
//!
//! A process's gates ask the budget only for the head of their queue, so each instance
//! is one waiter per limit in Redis, whatever the number of calls it has queued. A
//! waiter keeps the turn it drew (a counter's next number) when it began to wait; free
//! places go to the earliest turns, and an instance served draws a new turn at the
//! back when it asks again. So N busy instances are served in rotation. Its share
//! ([`RedisBudgetBuilder::share`]) bounds an instance only when others need the
//! places: beyond it, an instance yields its turn to any waiting instance below its
//! own share, so with N busy instances of share 1/N each holds its 1/N, and an instance
//! alone uses the whole rate. A waiter is renewed each time it asks again, at least
//! every second while it waits; one that has not asked for three seconds (its process
//! died, or no longer waits) leaves the queue, so it holds up nobody for long.
//!
//! # The clock
//!
//! By default the scores are read from the Redis server's `TIME`: the one clock every
//! machine sharing the window agrees on, however far apart their own clocks drift.
//! [`RedisBudgetBuilder::timer`] takes `now` from a [`Timer`] instead, for tests on
//! virtual time or a benchmark whose emulator runs faster than real time; every
//! process sharing the budget must then use clocks that agree.
//!
//! # When Redis cannot be reached
//!
//! A failed Redis call switches the limit over to a [`LocalBudget`] of the instance's
//! share of the rate ([`RedisBudgetBuilder::share`]), which carries over the places the
//! instance holds (in flight, or ended less than a window ago), and warns once. Every
//! few seconds (at the next take) it tries Redis again; when Redis answers, the
//! instance carries the places it still holds into Redis, marks the account as
//! recovering, and keeps to its share, now of both budgets, until the mark has passed.
//! The mark lasts long enough (a retry period, the lease and a window) that the places
//! taken by instances still on their own, which Redis does not see, have all freed;
//! every instance that takes a place while it lasts keeps to its share too.
//!
//! What that guarantees, and where it stops, is on [`RedisBudget`], for its users.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionInfo, IntoConnectionInfo, RedisError, RedisResult, Script};

use super::{Budget, Busy, Limit, LocalBudget, PlaceId, Rate};
use crate::error::Error;
use crate::time::{Timer, TokioTimer};

/// What every key starts with, before the account's label.
const KEY_ROOT: &str = "kie:budget:";
/// How long a call may stay in flight, by default, before its place is given up as the
/// place of a process that died: the client's default request timeout.
const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The longest a waiting instance goes without asking again, which keeps it queued.
const BEAT: Duration = Duration::from_secs(1);
/// A waiter that has not asked again for this long leaves the queue.
const WAITER_TTL: Duration = Duration::from_secs(3);
/// How long an instance just served still counts as waiting for the next of its calls
/// (which it asks for at once, if it has one): an instance beyond its share yields
/// to it meanwhile.
const LINGER: Duration = Duration::from_millis(200);
/// How often an instance on its own share tries Redis again.
const RETRY: Duration = Duration::from_secs(3);
/// How long connecting to Redis, or one call, may take before Redis counts as lost.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the keys outlive the last call to them, past the lease (no place is held
/// longer than the lease and a window).
const KEY_TTL: Duration = Duration::from_secs(3600);

/// What both scripts begin with. KEYS: the places (member: a place, named after its
/// instance, score: held until), the queue (member: a waiting instance, score: its
/// ticket), the waiters' heartbeats (score: the moment each is dropped unless it asks
/// again), the waiters' shares of `max` (a hash), the ticket counter, and the moment
/// until which the account recovers from an outage. ARGV[1]: now in microseconds, or
/// empty for the server's clock; ARGV[2]: how long the keys live on, in milliseconds.
const PRELUDE: &str = r"
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
-- Numbers as Redis reads them: Lua would write a time in microseconds in 14 digits.
local function int(x)
  return string.format('%.0f', x)
end
local function done(reply)
  for _, key in ipairs(KEYS) do
    redis.call('PEXPIRE', key, ARGV[2])
  end
  return reply
end
local places, queue, beats, shares, tickets, recovering =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
";

/// Takes a place for the calling instance in its turn, or says how long to wait.
/// ARGV[3]: the rate's max; ARGV[4]: its window; ARGV[5]: how long a call in flight
/// holds its place; ARGV[6]: the place's name (the caller's name, ':', a number);
/// ARGV[7]: the caller's name; ARGV[8]: its share of `max`; ARGV[9]: how long a waiter
/// stays unless it asks again; ARGV[10]: the longest wait to answer; ARGV[11]: 1 to
/// answer {2, left} while the account recovers; ARGV[12]: how long an instance just
/// served counts as waiting still. Answers {1} for a place, {0, wait} for none yet,
/// {2, left} while the account recovers.
const TAKE: &str = r"
local max, window, hold = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local place, me, share = ARGV[6], ARGV[7], tonumber(ARGV[8])
local alive, longest, linger = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[12])
redis.call('ZREMRANGEBYSCORE', places, '-inf', int(now))
if ARGV[11] == '1' then
  local until_ = tonumber(redis.call('GET', recovering))
  if until_ and until_ > now then
    return {2, until_ - now}
  end
end
-- Instances that stopped asking (their process died, or no longer waits) are forgotten.
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', beats, '-inf', int(now))) do
  redis.call('ZREM', queue, gone)
  redis.call('HDEL', shares, gone)
end
redis.call('ZREMRANGEBYSCORE', beats, '-inf', int(now))
-- The caller keeps the turn it drew when it began to wait.
if not redis.call('ZSCORE', queue, me) then
  redis.call('ZADD', queue, int(redis.call('INCR', tickets)), me)
end
redis.call('ZADD', beats, int(now + alive), me)
redis.call('HSET', shares, me, share)
local rank = redis.call('ZRANK', queue, me)
local free = max - redis.call('ZCARD', places)
if rank < free then
  -- Beyond its share, an instance yields to any waiting instance below its own: it
  -- draws a new turn, at the back, and asks again when a place of its frees.
  local held, first = {}, {}
  local all = redis.call('ZRANGE', places, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local owner = string.match(all[i], '^[^:]*')
    held[owner] = (held[owner] or 0) + 1
    first[owner] = first[owner] or tonumber(all[i + 1])
  end
  if (held[me] or 0) >= share then
    local waiting = redis.call('HGETALL', shares)
    for i = 1, #waiting, 2 do
      local other = waiting[i]
      if other ~= me and (held[other] or 0) < tonumber(waiting[i + 1]) then
        redis.call('ZADD', queue, int(redis.call('INCR', tickets)), me)
        return done({0, math.min(first[me] - now, window, longest, linger)})
      end
    end
  end
  -- Served, it leaves the queue, but counts as waiting a moment longer: the next of
  -- its calls may be on its way.
  redis.call('ZREM', queue, me)
  redis.call('ZADD', beats, int(now + linger), me)
  redis.call('ZADD', places, int(now + hold), place)
  return done({1})
end
-- The place the caller waits for: the first to free after those the waiters ahead
-- take. One still in flight frees a window after its answer, at the earliest.
local wait = longest
local due = redis.call('ZRANGE', places, rank - free, rank - free, 'WITHSCORES')
if due[2] then
  wait = math.min(tonumber(due[2]) - now, window, longest)
end
return done({0, wait})
";

/// Holds places until given moments, and marks the account as recovering. ARGV[3]: how
/// long the account recovers from now, 0 for no mark; then pairs of a place's name and
/// how long it is held from now. Answers how long the account recovers from now.
const HOLD: &str = r"
for i = 4, #ARGV, 2 do
  redis.call('ZADD', places, int(now + tonumber(ARGV[i + 1])), ARGV[i])
end
local recover = tonumber(ARGV[3])
if recover == 0 then
  return done(0)
end
local until_ = math.max(tonumber(redis.call('GET', recovering)) or 0, now + recover)
redis.call('SET', recovering, int(until_))
return done(until_ - now)
";

/// A [`Budget`] kept in Redis and shared by every process pointed at the same server
/// and prefix: the limits hold for the account as a whole, wherever its calls come
/// from, and its processes are served in turn.
///
/// A place is held from the moment a call is let through until a window after its
/// answer, as [`LocalBudget`] holds it, in a sorted set that one Lua script reads and
/// changes atomically. The scores are on the Redis server's clock, which all machines
/// share (or on a [`Timer`] of yours: [`RedisBudgetBuilder::timer`]). Each instance
/// waits in one queue in the order it asked; beyond its share
/// ([`RedisBudgetBuilder::share`]) it yields to instances below theirs, so N busy
/// instances of share 1/N get 1/N each, and one alone gets the whole rate.
///
/// # When Redis cannot be reached
///
/// The instance falls back on its share, carrying over the places it holds, and warns
/// once; every few seconds it tries Redis again. Back on Redis, it carries its places
/// there, marks the account as recovering, and, like every instance that takes a place
/// while the mark lasts (the lease, a window and a few seconds), keeps to its share,
/// until the places taken without Redis have freed.
///
/// What holds, with shares that add up to at most 1:
///
/// - Redis reachable: no window of the account holds more than the rate's `max`
///   (given calls that answer within the lease).
/// - Redis down for every instance: each holds at most its share of places, the ones it
///   carried over included, so the account stays within the limit, except for places
///   an instance held beyond its share when the outage began. It holds such places
///   only when no other instance wanted them (it yields to any below its share), so
///   never when all are busy; those places still count until they free, a window after
///   their answers, and only they can put the account over.
/// - Redis back: every instance that takes a place during the mark keeps to its share,
///   so places still held by instances not yet back are covered. Not covered: an
///   instance that took nothing during the outage and takes places between Redis's
///   return and the first instance's return, which it cannot know of (at most a retry
///   period).
/// - An instance cut off from Redis alone keeps to its share, but the others, which
///   still reach Redis, do not know it: the account may go over by that share until the
///   instance is back.
///
/// ```no_run
/// # async fn run() -> Result<(), kie_core::Error> {
/// use std::sync::Arc;
/// use kie_core::budget::RedisBudget;
///
/// // One of four instances of a service on one account.
/// let budget = RedisBudget::builder("redis://redis.internal:6379/")
///     .prefix("my-account")
///     .share(0.25)
///     .build()
///     .await?;
/// let client = kie_core::Client::builder()
///     .from_env()
///     .budget(Arc::new(budget))
///     .build()?;
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "redis-budget")))]
pub struct RedisBudget {
    inner: Arc<Inner>,
}

/// Builds a [`RedisBudget`] ([`RedisBudget::builder`]).
#[cfg_attr(docsrs, doc(cfg(feature = "redis-budget")))]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RedisBudgetBuilder {
    connection: RedisResult<ConnectionInfo>,
    account: Option<String>,
    share: f64,
    timer: Option<Arc<dyn Timer>>,
    lease: Duration,
}

impl RedisBudget {
    /// Waits until every release this instance has sent to Redis is done (each takes at
    /// most a second, Redis's timeout here). Releases go out in the background, so a
    /// process that exits right after its last call must call this first: otherwise
    /// Redis counts those calls in flight until their lease is up (a minute by default),
    /// and a command run in a loop would fill the account's window.
    pub async fn flush(&self) {
        let inner = &self.inner;
        loop {
            let released = inner.released.notified();
            let mut released = std::pin::pin!(released);
            released.as_mut().enable();
            if inner.releasing.load(Ordering::SeqCst) == 0 {
                return;
            }
            released.await;
        }
    }

    /// A budget kept on the Redis server at `url`
    /// (`redis://[:password@]host:port/[db]` or `redis+unix://`): one server, or a
    /// primary with replicas, not Redis Cluster (whose slots would split a limit's
    /// keys between nodes). A URL, not a `redis` crate type, so that kie-core's API
    /// does not follow that crate's versions.
    pub fn builder(url: &str) -> RedisBudgetBuilder {
        RedisBudgetBuilder {
            connection: url.into_connection_info(),
            account: None,
            share: 1.0,
            timer: None,
            lease: DEFAULT_LEASE,
        }
    }
}

impl RedisBudgetBuilder {
    /// The account's label in the keys (`kie:budget:{label}:create_task:places`, ...), so
    /// that several accounts can share one Redis: every instance of one account must use
    /// the same. Any name will do; never the API key, which would be readable by anyone
    /// who can list the keys. Default: none (`kie:budget:create_task:places`, ...).
    pub fn prefix(mut self, label: impl Into<String>) -> Self {
        self.account = Some(label.into());
        self
    }

    /// This instance's share of the account, in (0, 1] (default 1): what it keeps to on
    /// its own while Redis cannot be reached, and what it is sure of while others want
    /// places too (beyond it, an instance yields to those below theirs; places nobody
    /// else wants it may take). With N instances on one account, give each 1/N (or
    /// shares that add up to at most 1): the limits hold through an outage only then.
    pub fn share(mut self, share: f64) -> Self {
        self.share = share;
        self
    }

    /// Takes `now` from `timer` instead of the Redis server's clock (for tests on
    /// virtual time, or a benchmark whose emulator runs faster than real time). Every
    /// process sharing the budget must then use clocks that agree: the window is only as
    /// right as they are. Give the client the same timer.
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// How long a call may stay in flight before its place is given up as that of a
    /// process that died mid-call (default 60 s, the client's default request timeout;
    /// the place stays taken for a window more). Keep the lease and a window above the
    /// client's request timeout and any wait for a connection slot: a place given up
    /// while its call still runs lets one call too many through. After an outage, the
    /// instances keep to their shares for about this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Connects to Redis and builds the budget. Must run on a tokio runtime, whose
    /// tasks send the releases.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the URL is invalid, the
    /// server cannot be reached or refuses the credentials, the share is not in (0, 1],
    /// or there is no tokio runtime. The message names the server by host and port,
    /// never by its password.
    pub async fn build(self) -> Result<RedisBudget, Error> {
        let info = self
            .connection
            .map_err(|e| Error::config(format!("invalid Redis address: {e}")))?;
        if !(self.share > 0.0 && self.share <= 1.0) {
            return Err(Error::config(format!(
                "a RedisBudget's share must be in (0, 1], not {}",
                self.share
            )));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::config("RedisBudget::build must run on a tokio runtime"))?;
        let server = info.addr.to_string();
        let client = redis::Client::open(info)
            .map_err(|e| Error::config(format!("invalid Redis address {server}: {e}")))?;
        // No retries of its own: an unreachable server is reported at once, and in an
        // outage each call costs one attempt, at most a timeout long.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT)
            .set_number_of_retries(0);
        let mut redis = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| Error::config(format!("cannot reach Redis at {server}: {e}")))?;
        // A server that wants a password lets the connection open and refuses the
        // first command: asked now, so that a wrong URL is a configuration error, not
        // an outage once the client runs.
        redis::cmd("PING")
            .query_async::<String>(&mut redis)
            .await
            .map_err(|e| Error::config(format!("Redis at {server} refused a PING: {e}")))?;
        let prefix = match self.account {
            Some(label) if !label.is_empty() => format!("{KEY_ROOT}{label}:"),
            _ => KEY_ROOT.to_owned(),
        };
        let clock = if self.timer.is_some() {
            Clock::Timer
        } else {
            Clock::Server
        };
        Ok(RedisBudget {
            inner: Arc::new(Inner {
                redis,
                take: Script::new(&format!("{PRELUDE}{TAKE}")),
                hold: Script::new(&format!("{PRELUDE}{HOLD}")),
                clock,
                timer: self
                    .timer
                    .unwrap_or_else(|| Arc::new(TokioTimer::default())),
                share: self.share,
                lease: self.lease,
                name: format!("{:016x}", fastrand::u64(..)),
                next_place: AtomicU64::new(0),
                create_task: Lane::new(&prefix, Limit::CreateTask),
                record_info: Lane::new(&prefix, Limit::RecordInfo),
                runtime,
                releasing: AtomicU64::new(0),
                released: tokio::sync::Notify::new(),
                server,
                prefix,
            }),
        })
    }
}

impl fmt::Debug for RedisBudgetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection's address only: its password must not reach a log.
        let server = self
            .connection
            .as_ref()
            .map_or_else(|_| "(invalid)".to_owned(), |info| info.addr.to_string());
        f.debug_struct("RedisBudgetBuilder")
            .field("server", &server)
            .field("prefix", &self.account)
            .field("share", &self.share)
            .field("timer", &self.timer)
            .field("lease", &self.lease)
            .finish()
    }
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("RedisBudget")
            .field("server", &inner.server)
            .field("prefix", &inner.prefix)
            .field("share", &inner.share)
            .field("lease", &inner.lease)
            .field("clock", &inner.clock)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Budget for RedisBudget {
    async fn try_take(&self, limit: Limit, rate: Rate) -> Result<PlaceId, Busy> {
        self.inner.try_take(limit, rate).await
    }

    fn release(&self, limit: Limit, rate: Rate, place: PlaceId) {
        self.inner.release(limit, rate, place);
    }
}

/// Whose clock the scores are on.
#[derive(Debug, Clone, Copy)]
enum Clock {
    /// The Redis server's `TIME`.
    Server,
    /// The builder's timer, sent with each call.
    Timer,
}

struct Inner {
    redis: ConnectionManager,
    take: Script,
    hold: Script,
    clock: Clock,
    /// The instance's own clock: its places' ends, and the budget it falls back on.
    timer: Arc<dyn Timer>,
    share: f64,
    lease: Duration,
    /// This instance's name in Redis (random): its turn in the queue, and its places.
    name: String,
    next_place: AtomicU64,
    create_task: Lane,
    record_info: Lane,
    /// Where releases are sent from.
    runtime: tokio::runtime::Handle,
    /// Releases sent and not yet done, and the signal that the last one is.
    releasing: AtomicU64,
    released: tokio::sync::Notify,
    /// Host and port, for logs: never the password.
    server: String,
    prefix: String,
}

/// One limit's keys and this instance's state for it.
struct Lane {
    limit: Limit,
    keys: [String; 6],
    /// Held for a whole take: the instance asks Redis as one waiter.
    taking: tokio::sync::Mutex<()>,
    state: Mutex<LaneState>,
}

impl Lane {
    fn new(prefix: &str, limit: Limit) -> Self {
        Self {
            limit,
            keys: [
                "places",
                "queue",
                "beats",
                "shares",
                "tickets",
                "recovering",
            ]
            .map(|part| format!("{prefix}{limit}:{part}")),
            taking: tokio::sync::Mutex::new(()),
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LaneState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct LaneState {
    /// The places this instance holds: in flight, or until a moment on its clock.
    held: HashMap<PlaceId, Held>,
    mode: Mode,
}

/// A place this instance holds: in flight (`None`), or until a moment on its clock.
#[derive(Clone, Copy)]
struct Held {
    until: Option<Duration>,
}

/// Where a limit's places come from. Every [`LocalBudget`] here holds every place in
/// [`LaneState::held`].
#[derive(Default)]
enum Mode {
    /// From Redis alone.
    #[default]
    Shared,
    /// From this instance's share, while Redis cannot be reached; Redis is tried again
    /// at `retry_at`.
    Alone {
        local: LocalBudget,
        retry_at: Duration,
    },
    /// From Redis, and within this instance's share too, until the account has
    /// recovered from an outage (places taken without Redis may still be held).
    Recovering { local: LocalBudget, until: Duration },
}

impl LaneState {
    fn forget_freed(&mut self, now: Duration) {
        self.held
            .retain(|_, held| held.until.is_none_or(|until| until > now));
    }

    fn hold(&mut self, place: PlaceId) -> PlaceId {
        self.held.insert(place, Held { until: None });
        place
    }

    /// This limit's local budget: the one in use, else a new one holding every place.
    fn take_local(&mut self, limit: Limit, timer: &Arc<dyn Timer>) -> LocalBudget {
        match std::mem::take(&mut self.mode) {
            Mode::Alone { local, .. } | Mode::Recovering { local, .. } => local,
            Mode::Shared => {
                let local = LocalBudget::new(Arc::clone(timer));
                for held in self.held.values() {
                    match held.until {
                        None => local.hold_in_flight(limit),
                        Some(until) => local.hold_until(limit, until),
                    }
                }
                local
            }
        }
    }

    /// Switches to this instance's share alone; `true` if it was not already.
    fn go_alone(&mut self, limit: Limit, timer: &Arc<dyn Timer>, retry_at: Duration) -> bool {
        let switched = !matches!(self.mode, Mode::Alone { .. });
        let local = self.take_local(limit, timer);
        self.mode = Mode::Alone { local, retry_at };
        switched
    }

    /// Switches to Redis within this instance's share, until `until`.
    fn recover(&mut self, limit: Limit, timer: &Arc<dyn Timer>, until: Duration) {
        let local = self.take_local(limit, timer);
        self.mode = Mode::Recovering { local, until };
    }
}

/// What a take asks Redis for.
enum Ask {
    /// Carry this instance's places back into Redis, then take.
    Rejoin,
    /// A place; with `check_recovery`, unless the account recovers (an instance that
    /// knows it does need not be told).
    Take { check_recovery: bool },
}

/// Redis's answer to a take.
enum Taken {
    Place,
    Wait(Duration),
    Recovering { left: Duration },
}

/// A take sent to Redis and not answered yet. Dropped unanswered (its caller stopped
/// waiting, in a timeout or a `select!`, or the call failed), it frees the place the
/// script may have taken, which nobody would release: Redis would count it as in flight
/// until its lease is up. The freeing goes out on the same connection after the take,
/// so Redis runs it second; a take that never ran leaves a place already free, which
/// the next take drops.
struct Asking<'a> {
    inner: &'a Arc<Inner>,
    limit: Limit,
    place: PlaceId,
    answered: bool,
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        if !self.answered {
            let inner = self.inner;
            inner.hold_in_background(self.limit, self.place, Duration::ZERO, inner.timer.now());
        }
    }
}

impl Inner {
    async fn try_take(self: &Arc<Self>, limit: Limit, rate: Rate) -> Result<PlaceId, Busy> {
        let lane = self.lane(limit);
        let _taking = lane.taking.lock().await;
        loop {
            let now = self.timer.now();
            let ask = {
                let mut state = lane.lock();
                state.forget_freed(now);
                match &mut state.mode {
                    Mode::Alone { local, retry_at } if now < *retry_at => {
                        local.take_now(limit, self.own(rate))?;
                        return Ok(state.hold(self.next_place()));
                    }
                    Mode::Alone { .. } => Ask::Rejoin,
                    Mode::Recovering { until, .. } if now >= *until => {
                        state.mode = Mode::Shared;
                        Ask::Take {
                            check_recovery: true,
                        }
                    }
                    Mode::Recovering { local, .. } => {
                        local.room(limit, self.own(rate))?;
                        Ask::Take {
                            check_recovery: false,
                        }
                    }
                    Mode::Shared => Ask::Take {
                        check_recovery: true,
                    },
                }
            };
            let check_recovery = match ask {
                Ask::Rejoin => {
                    self.rejoin(lane, rate, now).await;
                    continue;
                }
                Ask::Take { check_recovery } => check_recovery,
            };
            let place = self.next_place();
            let mut asking = Asking {
                inner: self,
                limit,
                place,
                answered: false,
            };
            let answer = self.take(lane, rate, place, check_recovery, now).await;
            asking.answered = answer.is_ok();
            drop(asking);
            match answer {
                Ok(Taken::Place) => {
                    let mut state = lane.lock();
                    if let Mode::Alone { local, .. } | Mode::Recovering { local, .. } = &state.mode
                    {
                        local.hold_in_flight(limit);
                    }
                    return Ok(state.hold(place));
                }
                Ok(Taken::Wait(wait)) => return Err(Busy::For(wait)),
                Ok(Taken::Recovering { left }) => {
                    lane.lock().recover(limit, &self.timer, now + left);
                    tracing::info!(
                        %limit,
                        server = %self.server,
                        ?left,
                        "the account recovers from a Redis outage: keeping to this instance's share meanwhile"
                    );
                }
                Err(error) => self.fall_back(lane, &error),
            }
        }
    }

    fn release(self: &Arc<Self>, limit: Limit, rate: Rate, place: PlaceId) {
        let lane = self.lane(limit);
        let now = self.timer.now();
        let in_redis = {
            let mut state = lane.lock();
            let Some(held) = state.held.get_mut(&place) else {
                return;
            };
            if held.until.is_some() {
                return;
            }
            held.until = Some(now + rate.window());
            match &state.mode {
                Mode::Shared => true,
                Mode::Recovering { local, .. } => {
                    local.give_back(limit, rate);
                    true
                }
                Mode::Alone { local, .. } => {
                    local.give_back(limit, rate);
                    false
                }
            }
        };
        if in_redis {
            self.hold_in_background(limit, place, rate.window(), now);
        }
    }

    /// Holds `place` in Redis for `left` from `now`, from a task of its own, which
    /// [`RedisBudget::flush`] waits for: a release, or the freeing of a place whose take
    /// went unanswered.
    fn hold_in_background(
        self: &Arc<Self>,
        limit: Limit,
        place: PlaceId,
        left: Duration,
        now: Duration,
    ) {
        let inner = Arc::clone(self);
        self.releasing.fetch_add(1, Ordering::SeqCst);
        self.runtime.spawn(async move {
            let lane = inner.lane(limit);
            if let Err(error) = inner.hold(lane, [(place, left)], None, now).await {
                // Redis counts the place as in flight until its lease is up: longer
                // than it needs, never shorter.
                inner.fall_back(lane, &error);
            }
            if inner.releasing.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.released.notify_waiters();
            }
        });
    }

    /// Asks Redis for a place, in this instance's turn.
    async fn take(
        &self,
        lane: &Lane,
        rate: Rate,
        place: PlaceId,
        check_recovery: bool,
        now: Duration,
    ) -> RedisResult<Taken> {
        let mut call = self.invocation(&self.take, lane, now);
        call.arg(rate.max())
            .arg(micros(rate.window()))
            .arg(micros(self.in_flight_hold(rate)))
            .arg(self.member(place))
            .arg(&self.name)
            .arg(self.own(rate).max())
            .arg(micros(WAITER_TTL))
            .arg(micros(BEAT.min(rate.window())))
            .arg(u8::from(check_recovery))
            .arg(micros(LINGER));
        let reply: Vec<u64> = call.invoke_async(&mut self.redis.clone()).await?;
        match reply[..] {
            [1] => Ok(Taken::Place),
            [0, wait] => Ok(Taken::Wait(
                Duration::from_micros(wait).max(Duration::from_millis(1)),
            )),
            [2, left] => Ok(Taken::Recovering {
                left: Duration::from_micros(left),
            }),
            _ => Err(RedisError::from((
                redis::ErrorKind::TypeError,
                "unexpected answer from the budget's script",
            ))),
        }
    }

    /// Holds each place for its duration from now in Redis and, with `recover`, marks
    /// the account as recovering for that long at least; answers how long the account
    /// recovers from now.
    async fn hold(
        &self,
        lane: &Lane,
        places: impl IntoIterator<Item = (PlaceId, Duration)>,
        recover: Option<Duration>,
        now: Duration,
    ) -> RedisResult<Duration> {
        let mut call = self.invocation(&self.hold, lane, now);
        call.arg(recover.map_or(0, micros));
        for (place, left) in places {
            call.arg(self.member(place)).arg(micros(left));
        }
        let left: u64 = call.invoke_async(&mut self.redis.clone()).await?;
        Ok(Duration::from_micros(left))
    }

    /// A call of `script` with what [`PRELUDE`] reads: the lane's keys, `now` and how
    /// long the keys live on.
    fn invocation<'a>(
        &self,
        script: &'a Script,
        lane: &Lane,
        now: Duration,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.prepare_invoke();
        for key in &lane.keys {
            call.key(key);
        }
        call.arg(self.now_arg(now)).arg(self.key_ttl_ms());
        call
    }

    /// Carries the places this instance holds into Redis and marks the account as
    /// recovering, so that every instance keeps to its share until the places taken
    /// without Redis have freed; if Redis still cannot be reached, tries again later.
    async fn rejoin(&self, lane: &Lane, rate: Rate, now: Duration) {
        let carried: Vec<(PlaceId, Option<Duration>)> = lane
            .lock()
            .held
            .iter()
            .map(|(place, held)| (*place, held.until))
            .collect();
        let hold = self.in_flight_hold(rate);
        let places = carried.iter().map(|(place, until)| {
            let left = until.map_or(hold, |until| until.saturating_sub(now));
            (*place, left)
        });
        let recovery = RETRY + hold;
        match self.hold(lane, places, Some(recovery), now).await {
            Ok(left) => {
                let now = self.timer.now();
                // Calls answered meanwhile ended here only: end them in Redis too.
                let ended: Vec<(PlaceId, Duration)> = {
                    let mut state = lane.lock();
                    state.recover(lane.limit, &self.timer, now + left);
                    carried
                        .iter()
                        .filter(|(_, until)| until.is_none())
                        .filter_map(|(place, _)| {
                            let until = state.held.get(place)?.until?;
                            Some((*place, until.saturating_sub(now)))
                        })
                        .collect()
                };
                tracing::warn!(
                    limit = %lane.limit,
                    server = %self.server,
                    ?left,
                    "Redis answers again: back on the account's shared rate budget, keeping to this instance's share while the account recovers"
                );
                if !ended.is_empty()
                    && let Err(error) = self.hold(lane, ended, None, now).await
                {
                    self.fall_back(lane, &error);
                }
            }
            Err(error) => {
                tracing::debug!(limit = %lane.limit, server = %self.server, %error, "Redis still cannot be reached");
                if let Mode::Alone { retry_at, .. } = &mut lane.lock().mode {
                    *retry_at = now + RETRY;
                }
            }
        }
    }

    /// Switches the lane to this instance's share after Redis failed.
    fn fall_back(&self, lane: &Lane, error: &RedisError) {
        let retry_at = self.timer.now() + RETRY;
        if lane.lock().go_alone(lane.limit, &self.timer, retry_at) {
            tracing::warn!(
                limit = %lane.limit,
                server = %self.server,
                share = self.share,
                %error,
                "Redis cannot be reached: keeping to this instance's share of the account's rate until it answers again"
            );
        }
    }

    fn lane(&self, limit: Limit) -> &Lane {
        match limit {
            Limit::CreateTask => &self.create_task,
            Limit::RecordInfo => &self.record_info,
        }
    }

    /// This instance's share of `rate`.
    fn own(&self, rate: Rate) -> Rate {
        rate.share(self.share)
    }

    /// How long a call in flight holds its place in Redis, at most.
    fn in_flight_hold(&self, rate: Rate) -> Duration {
        self.lease + rate.window()
    }

    fn next_place(&self) -> PlaceId {
        PlaceId::new(self.next_place.fetch_add(1, Ordering::Relaxed))
    }

    /// A place's name in Redis: the instance's, and the place's number.
    fn member(&self, place: PlaceId) -> String {
        format!("{}:{}", self.name, place.get())
    }

    fn now_arg(&self, now: Duration) -> String {
        match self.clock {
            Clock::Server => String::new(),
            Clock::Timer => micros(now).to_string(),
        }
    }

    fn key_ttl_ms(&self) -> u64 {
        u64::try_from((KEY_TTL + self.lease).as_millis()).unwrap_or(u64::MAX)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_never_shows_the_password() {
        let builder = RedisBudget::builder("redis://:hunter2@127.0.0.1:6390/1").prefix("acct");
        let shown = format!("{builder:?}");
        assert!(shown.contains("127.0.0.1:6390"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn a_bad_address_or_share_is_a_config_error_without_the_password() {
        let errors = [
            RedisBudget::builder("http://:hunter2@host/").build().await,
            // Nothing listens on port 1.
            RedisBudget::builder("redis://:hunter2@127.0.0.1:1/")
                .build()
                .await,
            RedisBudget::builder("redis://:hunter2@127.0.0.1:1/")
                .share(0.0)
                .build()
                .await,
        ];
        for error in errors {
            let error = error.expect_err("no budget");
            assert!(
                matches!(error.kind(), crate::ErrorKind::Config(_)),
                "{error:?}"
            );
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn keys_name_the_account_and_the_limit() {
        let lane = Lane::new("kie:budget:acct:", Limit::RecordInfo);
        assert_eq!(lane.keys[0], "kie:budget:acct:record_info:places");
        assert_eq!(lane.keys[5], "kie:budget:acct:record_info:recovering");
    }
}
