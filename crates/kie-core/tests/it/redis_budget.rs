//! `RedisBudget` against a real Redis server (`KIE_TEST_REDIS_URL`, which CI sets; each
//! test says it is skipped without it): several instances, standing for processes on
//! several machines, keep to one account's limit together and are served in turn; the
//! place of a process that died is freed; and an outage, a proxy in front of Redis cut
//! mid-run, keeps each instance to its share until Redis is back.
//!
//! Everything runs on a simulated clock shared by the instances, so that a minute of
//! pacing takes a few hundred milliseconds and nothing depends on the machine's speed.
//! Each test has keys of its own (a unique prefix), so the tests run in parallel.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use kie_core::budget::{Budget, Busy, Limit, RedisBudget};
use kie_core::time::{Sleep, Timer};
use kie_core::{ErrorKind, Rate};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

/// The server's address, or `None` (and a note) when the tests are to be skipped.
fn redis(test: &str) -> Option<ConnectionInfo> {
    match std::env::var("KIE_TEST_REDIS_URL") {
        Ok(url) => Some(
            url.into_connection_info()
                .expect("KIE_TEST_REDIS_URL is a Redis URL"),
        ),
        Err(_) => {
            eprintln!("skipped {test}: KIE_TEST_REDIS_URL is not set");
            None
        }
    }
}

/// A plain connection, to look at the keys.
/// `info` as the URL `RedisBudget::builder` takes.
fn url(info: &ConnectionInfo) -> String {
    let ConnectionAddr::Tcp(host, port) = &info.addr else {
        panic!("KIE_TEST_REDIS_URL must name a TCP server");
    };
    let auth = match (&info.redis.username, &info.redis.password) {
        (Some(user), Some(password)) => format!("{user}:{password}@"),
        (None, Some(password)) => format!(":{password}@"),
        _ => String::new(),
    };
    format!("redis://{auth}{host}:{port}/{}", info.redis.db)
}

async fn connect(server: &ConnectionInfo) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.clone())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

/// An account label no other test (or earlier run) uses.
fn account(test: &str) -> String {
    format!("test-{test}-{:016x}", fastrand::u64(..))
}

/// The account's rate in these tests: 8 places per second.
const RATE: Rate = Rate::per(8, Duration::from_secs(1));
/// How long each call takes.
const LATENCY: Duration = Duration::from_millis(200);
/// How long a call may stay in flight before its place is given up (short, so that
/// the lease and an outage's recovery take seconds, not minutes).
const LEASE: Duration = Duration::from_secs(5);

/// Virtual time shared by simulated processes. It stands still while any of them is
/// awake, Redis calls included, and jumps to the next wake-up once all of them sleep:
/// every instant's work is done before time moves on.
#[derive(Debug, Default)]
struct SimClock {
    state: Mutex<SimState>,
}

#[derive(Debug, Default)]
struct SimState {
    now: Duration,
    /// The participants awake.
    awake: usize,
    sleepers: BTreeMap<(Duration, u64), oneshot::Sender<()>>,
    drawn: u64,
}

impl SimClock {
    /// Counts a participant in until the guard drops: time waits for it while it is
    /// awake. Only participants sleep on this clock.
    fn enter(self: &Arc<Self>) -> Presence {
        self.lock().awake += 1;
        Presence(Arc::clone(self))
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A participant of a [`SimClock`], counted in while it lives.
struct Presence(Arc<SimClock>);

impl Drop for Presence {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.awake -= 1;
        state.advance();
    }
}

impl SimState {
    fn advance(&mut self) {
        while self.awake == 0 {
            let Some(first) = self.sleepers.first_key_value() else {
                return;
            };
            self.now = self.now.max(first.0.0);
            while let Some(first) = self.sleepers.first_entry()
                && first.key().0 <= self.now
            {
                let _ = first.remove().send(());
                self.awake += 1;
            }
        }
    }
}

impl Timer for SimClock {
    fn now(&self) -> Duration {
        self.lock().now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let (wake, woken) = oneshot::channel();
        let mut state = self.lock();
        let key = (state.now + duration, state.drawn);
        state.drawn += 1;
        state.sleepers.insert(key, wake);
        state.awake -= 1;
        state.advance();
        Box::pin(async move {
            let _ = woken.await;
        })
    }
}

/// One call: which process made it, when it was let through and when its answer came.
#[derive(Debug, Clone, Copy)]
struct Call {
    process: usize,
    start: Duration,
    end: Duration,
}

impl Call {
    /// Whether the call's place is held at `at`: from its start until a window after
    /// its end (kie.ai counts it somewhere in between).
    fn holds_at(&self, at: Duration) -> bool {
        self.start <= at && at < self.end + RATE.window()
    }
}

/// The most places `of` held at the start of any call `of` accepts (the count only
/// grows when a call starts), among the starts in `during`.
fn most_held(
    calls: &[Call],
    of: impl Fn(&Call) -> bool,
    during: std::ops::Range<Duration>,
) -> usize {
    let ours: Vec<&Call> = calls.iter().filter(|call| of(call)).collect();
    ours.iter()
        .filter(|call| during.contains(&call.start))
        .map(|call| ours.iter().filter(|o| o.holds_at(call.start)).count())
        .max()
        .unwrap_or(0)
}

/// `n` instances on one account, on `clock`, each keeping `share` to itself in an
/// outage.
async fn instances(
    server: &ConnectionInfo,
    account: &str,
    clock: &Arc<SimClock>,
    n: usize,
    share: f64,
) -> Vec<Arc<RedisBudget>> {
    let mut budgets = Vec::new();
    for _ in 0..n {
        let budget = RedisBudget::builder(&url(server))
            .prefix(account)
            .share(share)
            .lease(LEASE)
            .timer(clock.clone())
            .build()
            .await
            .expect("Redis answers");
        budgets.push(Arc::new(budget));
    }
    budgets
}

/// Runs `callers` callers on each instance, each making call after call until `until`,
/// and `controller` beside them (a participant of the clock); returns the calls made.
async fn run(
    budgets: &[Arc<RedisBudget>],
    clock: &Arc<SimClock>,
    callers: usize,
    until: Duration,
    controller: impl Future<Output = ()> + Send + 'static,
) -> Vec<Call> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (process, budget) in budgets.iter().enumerate() {
        for _ in 0..callers {
            let presence = clock.enter();
            let (budget, clock, calls) = (budget.clone(), clock.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                let _presence = presence;
                while clock.now() < until {
                    match budget.try_take(Limit::CreateTask, RATE).await {
                        Ok(place) => {
                            let start = clock.now();
                            clock.sleep(LATENCY).await;
                            budget.release(Limit::CreateTask, RATE, place);
                            let end = clock.now();
                            calls.lock().unwrap().push(Call {
                                process,
                                start,
                                end,
                            });
                        }
                        Err(Busy::For(wait)) => clock.sleep(wait).await,
                        Err(Busy::UntilAnEnd) => clock.sleep(RATE.window() / 10).await,
                    }
                }
            }));
        }
    }
    let presence = clock.enter();
    tasks.push(tokio::spawn(async move {
        let _presence = presence;
        controller.await;
    }));
    for task in tasks {
        task.await.expect("no caller panics");
    }
    Arc::try_unwrap(calls).unwrap().into_inner().unwrap()
}

/// When `budget` first gives a place of `rate`, asking again as told.
async fn first_place(budget: &RedisBudget, clock: &SimClock, rate: Rate) -> Duration {
    loop {
        match budget.try_take(Limit::CreateTask, rate).await {
            Ok(_) => return clock.now(),
            Err(Busy::For(wait)) => clock.sleep(wait).await,
            Err(Busy::UntilAnEnd) => unreachable!("a shared budget knows no ends"),
        }
    }
}

/// Sleeps on `clock` until `at`.
async fn until(clock: &SimClock, at: Duration) {
    let now = clock.now();
    if at > now {
        clock.sleep(at - now).await;
    }
}

#[tokio::test]
async fn four_processes_keep_to_one_limit_and_are_served_in_turn() {
    let Some(server) = redis("four_processes_keep_to_one_limit_and_are_served_in_turn") else {
        return;
    };
    let clock = Arc::new(SimClock::default());
    let account = account("turns");
    let budgets = instances(&server, &account, &clock, 4, 0.25).await;
    let end = Duration::from_secs(30);
    let calls = run(&budgets, &clock, 3, end, async {}).await;

    let all = Duration::ZERO..end;
    let held = most_held(&calls, |_| true, all);
    assert_eq!(held, 8, "never more than the limit, and the limit is used");
    // A place is held for its call and a window: 8 per 1.2 s at best.
    assert!(calls.len() >= 160, "{} calls in 30 s", calls.len());
    for process in 0..4 {
        let made = calls.iter().filter(|call| call.process == process).count();
        let part = made as f64 / calls.len() as f64;
        assert!(
            (0.2..=0.3).contains(&part),
            "process {process} made {made} of {} calls",
            calls.len()
        );
    }
}

#[tokio::test]
async fn the_place_of_a_process_that_died_mid_call_frees_after_the_lease() {
    let Some(server) = redis("the_place_of_a_process_that_died_mid_call_frees_after_the_lease")
    else {
        return;
    };
    let clock = Arc::new(SimClock::default());
    let account = account("lease");
    let one = Rate::per(1, Duration::from_secs(1));
    let budgets = instances(&server, &account, &clock, 2, 0.5).await;
    let (dead, alive) = (&budgets[0], &budgets[1]);
    dead.try_take(Limit::CreateTask, one)
        .await
        .expect("a free place");
    // The process dies in its call: nothing releases the place.

    let _presence = clock.enter();
    let taken = first_place(alive, &clock, one).await;
    let freed = LEASE + one.window();
    assert!(
        freed <= taken && taken < freed + Duration::from_secs(1),
        "taken at {taken:?}, freed at {freed:?}"
    );
}

#[tokio::test]
async fn the_turn_of_a_process_that_stopped_asking_passes_to_the_next() {
    let Some(server) = redis("the_turn_of_a_process_that_stopped_asking_passes_to_the_next") else {
        return;
    };
    let clock = Arc::new(SimClock::default());
    let account = account("turn");
    let one = Rate::per(1, Duration::from_secs(1));
    let budgets = instances(&server, &account, &clock, 3, 0.25).await;
    let (holder, dead, next) = (&budgets[0], &budgets[1], &budgets[2]);
    let place = holder.try_take(Limit::CreateTask, one).await.unwrap();
    holder.release(Limit::CreateTask, one, place);
    // The release is sent in the background: wait until Redis has it (the place then
    // ends a window after 0).
    let mut redis = connect(&server).await;
    let places = format!("kie:budget:{account}:create_task:places");
    let ended = u64::try_from(one.window().as_micros()).unwrap();
    while redis::cmd("ZCOUNT")
        .arg(&places)
        .arg(ended)
        .arg(ended)
        .query_async::<usize>(&mut redis)
        .await
        .unwrap()
        == 0
    {
        tokio::task::yield_now().await;
    }
    // First in line, then gone for good.
    assert!(matches!(
        dead.try_take(Limit::CreateTask, one).await,
        Err(Busy::For(_))
    ));

    let _presence = clock.enter();
    let taken = first_place(next, &clock, one).await;
    // The place was free after a window, but the turn was the dead process's until its
    // ticket lapsed (3 s after it last asked).
    let lapsed = Duration::from_secs(3);
    assert!(
        lapsed <= taken && taken < lapsed + Duration::from_secs(1),
        "taken at {taken:?}"
    );
}

#[tokio::test]
async fn the_place_of_a_take_given_up_before_its_answer_frees_at_once() {
    let Some(server) = redis("the_place_of_a_take_given_up_before_its_answer_frees_at_once") else {
        return;
    };
    let (proxy, through) = proxied(&server).await;
    let clock = Arc::new(SimClock::default());
    let account = account("given-up");
    let one = Rate::per(1, Duration::from_secs(1));
    let given_up = instances(&through, &account, &clock, 1, 0.5)
        .await
        .remove(0);
    let other = instances(&server, &account, &clock, 1, 0.5).await.remove(0);
    let mut redis = connect(&server).await;
    let places = format!("kie:budget:{account}:create_task:places");

    // Redis runs the take, but its answer is held back, and the caller stops waiting
    // for it (a timeout, a `select!`): the place was taken, and nobody holds it.
    proxy.hold_answers(true);
    {
        let mut take = std::pin::pin!(given_up.try_take(Limit::CreateTask, one));
        assert!(
            take.as_mut().now_or_never().is_none(),
            "answered while held back"
        );
        while redis::cmd("ZCARD")
            .arg(&places)
            .query_async::<usize>(&mut redis)
            .await
            .unwrap()
            == 0
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    proxy.hold_answers(false);
    given_up.flush().await;

    // Free at once: another instance takes it now, not after the lease (5 s) and a
    // window.
    assert!(
        other.try_take(Limit::CreateTask, one).await.is_ok(),
        "the place of the take given up is free"
    );
}

#[tokio::test]
async fn by_default_the_window_is_on_the_servers_clock() {
    let Some(server) = redis("by_default_the_window_is_on_the_servers_clock") else {
        return;
    };
    let budget = RedisBudget::builder(&url(&server))
        .prefix(account("server-clock"))
        .build()
        .await
        .expect("Redis answers");
    let one = Rate::per(1, Duration::from_secs(1));
    let place = budget.try_take(Limit::RecordInfo, one).await.unwrap();
    match budget.try_take(Limit::RecordInfo, one).await {
        Err(Busy::For(wait)) => assert!(wait <= one.window(), "{wait:?}"),
        other => panic!("the one place is held: {other:?}"),
    }
    budget.release(Limit::RecordInfo, one, place);
    assert!(
        budget.try_take(Limit::CreateTask, one).await.is_ok(),
        "the limits are apart"
    );
}

#[tokio::test]
async fn flush_waits_for_the_releases_sent_in_the_background() {
    let Some(server) = redis("flush_waits_for_the_releases_sent_in_the_background") else {
        return;
    };
    let label = account("flush");
    let budget = RedisBudget::builder(&url(&server))
        .prefix(label.clone())
        .build()
        .await
        .expect("Redis answers");
    let rate = Rate::per(5, Duration::from_secs(2));
    let places: Vec<_> =
        futures_util::future::join_all((0..5).map(|_| budget.try_take(Limit::RecordInfo, rate)))
            .await
            .into_iter()
            .map(|place| place.expect("a place"))
            .collect();
    for place in places {
        budget.release(Limit::RecordInfo, rate, place);
    }
    budget.flush().await;
    // Every place is now held until a window from its answer, not in flight for the
    // lease (a minute): what a process that exits next leaves behind.
    let mut redis = connect(&server).await;
    let (seconds, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut redis).await.unwrap();
    let now_us = seconds * 1_000_000 + micros;
    let held: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(format!("kie:budget:{label}:record_info:places"))
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(held.len(), 5);
    for (_, until_us) in held {
        let left = until_us - now_us as f64;
        assert!(left <= 2_000_000.0, "held {left} µs more, not a lease");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_configuration_error() {
    let Some(mut server) = redis("an_unreachable_server_is_a_configuration_error") else {
        return;
    };
    // A port nothing listens on: bound, then closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    server.addr = ConnectionAddr::Tcp("127.0.0.1".into(), port);
    let error = RedisBudget::builder(&url(&server))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Config(_)), "{error}");
}

#[tokio::test]
async fn a_server_that_wants_a_password_is_a_configuration_error_at_build() {
    // A stand-in for a Redis server with `requirepass`: it accepts the connection and
    // refuses every command, as Redis does before AUTH. No real server needed.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                    // One refusal per command: each is a RESP array, `*` at a line start.
                    let read = &buffer[..n];
                    let commands = usize::from(read.first() == Some(&b'*'))
                        + read.windows(3).filter(|w| w == b"\r\n*").count();
                    let refusal = "-NOAUTH Authentication required.\r\n".repeat(commands);
                    if stream.write_all(refusal.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let error = RedisBudget::builder(&format!("redis://127.0.0.1:{port}/"))
        .build()
        .await
        .unwrap_err();
    server.abort();
    assert!(matches!(error.kind(), ErrorKind::Config(_)), "{error}");
}

/// A TCP proxy in front of Redis that can be cut (every connection dropped, each new one
/// closed at once) and restored, and can hold Redis's answers back while the commands
/// still reach it.
struct Proxy {
    addr: SocketAddr,
    /// Whether it forwards, and the connections it forwards.
    links: Arc<Mutex<(bool, Vec<AbortHandle>)>>,
    accept: AbortHandle,
    /// Whether the answers are held back.
    holding: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let links = Arc::new(Mutex::new((true, Vec::new())));
        let holding = watch::Sender::new(false);
        let accept = tokio::spawn({
            let links = links.clone();
            let holding = holding.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let mut links = links.lock().unwrap();
                    if !links.0 {
                        continue;
                    }
                    let holding = holding.subscribe();
                    let link = tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(target).await {
                            let (mut from_client, to_client) = client.into_split();
                            let (from_server, mut to_server) = server.into_split();
                            let _ = tokio::join!(
                                tokio::io::copy(&mut from_client, &mut to_server),
                                answers(from_server, to_client, holding),
                            );
                        }
                    });
                    links.1.push(link.abort_handle());
                }
            }
        });
        Self {
            addr,
            links,
            accept: accept.abort_handle(),
            holding,
        }
    }

    fn cut(&self) {
        let mut links = self.links.lock().unwrap();
        links.0 = false;
        for link in links.1.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.links.lock().unwrap().0 = true;
    }

    fn hold_answers(&self, hold: bool) {
        self.holding.send_replace(hold);
    }
}

/// Forwards Redis's answers to the client, except while they are held.
async fn answers(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut holding: watch::Receiver<bool>,
) {
    let mut buffer = [0u8; 4096];
    while let Ok(n @ 1..) = from.read(&mut buffer).await {
        if holding.wait_for(|held| !held).await.is_err()
            || to.write_all(&buffer[..n]).await.is_err()
        {
            return;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// A proxy in front of `server`, and the address to reach Redis through it.
async fn proxied(server: &ConnectionInfo) -> (Arc<Proxy>, ConnectionInfo) {
    let ConnectionAddr::Tcp(host, port) = &server.addr else {
        panic!("KIE_TEST_REDIS_URL is a TCP address");
    };
    let target = tokio::net::lookup_host((host.as_str(), *port))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(target).await;
    let through = ConnectionInfo {
        addr: ConnectionAddr::Tcp("127.0.0.1".into(), proxy.addr.port()),
        redis: server.redis.clone(),
    };
    (Arc::new(proxy), through)
}

/// Cuts `proxy` at `cut` and restores it at `restored`, on `clock`.
async fn outage(clock: Arc<SimClock>, proxy: Arc<Proxy>, cut: Duration, restored: Duration) {
    until(&clock, cut).await;
    proxy.cut();
    until(&clock, restored).await;
    proxy.restore();
}

/// When the outage begins and ends, and when the runs end: the instances are back on
/// Redis within two retries (3 s each; the first may meet the connection that failed)
/// and recover for a retry, the lease and a window more (9 s).
const CUT: Duration = Duration::from_secs(20);
const RESTORED: Duration = Duration::from_secs(35);
const RECOVERING: Duration = Duration::from_secs(44);
const RECOVERED: Duration = Duration::from_secs(50);
const END: Duration = Duration::from_secs(60);

#[tokio::test]
async fn in_an_outage_each_instance_keeps_to_its_share_then_returns_to_redis() {
    let Some(server) = redis("in_an_outage_each_instance_keeps_to_its_share_then_returns_to_redis")
    else {
        return;
    };
    let (proxy, through) = proxied(&server).await;
    let clock = Arc::new(SimClock::default());
    let account = account("outage");
    let budgets = instances(&through, &account, &clock, 4, 0.25).await;
    let controller = outage(clock.clone(), proxy.clone(), CUT, RESTORED);
    let calls = run(&budgets, &clock, 3, END, controller).await;

    assert!(
        most_held(&calls, |_| true, Duration::ZERO..END) <= RATE.max() as usize,
        "the account never holds more than its limit"
    );
    // Four instances, a quarter each: 2 places.
    let share = RATE.share(0.25).max() as usize;
    for process in 0..4 {
        let own = |call: &Call| call.process == process;
        let made = |during: std::ops::Range<Duration>| {
            calls
                .iter()
                .filter(|call| own(call) && during.contains(&call.start))
                .count()
        };
        assert!(
            made(CUT..RESTORED) > 0,
            "process {process} works on in the outage"
        );
        assert!(
            most_held(&calls, own, CUT..RESTORED) <= share,
            "process {process} keeps to its share in the outage"
        );
        assert!(
            made(RESTORED..END) > 0,
            "process {process} works on after it"
        );
    }

    // Back on Redis: every place held at the last call's start is counted there, and
    // the account was marked as recovering when the first instance came back.
    let mut redis = connect(&server).await;
    let last = calls.iter().map(|call| call.start).max().unwrap();
    let held = calls.iter().filter(|call| call.holds_at(last)).count();
    let in_redis: usize = redis::cmd("ZCOUNT")
        .arg(format!("kie:budget:{account}:create_task:places"))
        .arg(format!("({}", last.as_micros()))
        .arg("+inf")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        held > 0 && in_redis >= held,
        "Redis counts {in_redis} of the {held} places held"
    );
    let recovering: u64 = redis::cmd("GET")
        .arg(format!("kie:budget:{account}:create_task:recovering"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(Duration::from_micros(recovering) > RESTORED, "{recovering}");
}

#[tokio::test]
async fn an_instance_alone_drops_to_its_share_in_an_outage_and_recovers_the_whole_rate() {
    let Some(server) =
        redis("an_instance_alone_drops_to_its_share_in_an_outage_and_recovers_the_whole_rate")
    else {
        return;
    };
    let (proxy, through) = proxied(&server).await;
    let clock = Arc::new(SimClock::default());
    let budgets = instances(&through, &account("alone"), &clock, 1, 0.25).await;
    let controller = outage(clock.clone(), proxy.clone(), CUT, RESTORED);
    let calls = run(&budgets, &clock, 10, END, controller).await;

    let held = |during| most_held(&calls, |_| true, during);
    let share = RATE.share(0.25).max() as usize;
    assert_eq!(
        held(Duration::ZERO..CUT),
        8,
        "the whole rate while Redis answers"
    );
    // The places taken before the outage free first, then a quarter of the rate.
    let settled = CUT + LATENCY + RATE.window();
    assert_eq!(
        held(settled..RESTORED),
        share,
        "its share alone in the outage"
    );
    assert!(
        held(RESTORED..RECOVERING) <= share,
        "its share while the account recovers"
    );
    assert_eq!(held(RECOVERED..END), 8, "the whole rate again");
}
