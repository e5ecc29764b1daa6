//! The callback receiver does not let slow or numerous clients hold it: every
//! connection that stalls in its headers or body is answered or closed at its timeout,
//! and connections past the cap wait their turn. Timeouts here are tens of
//! milliseconds; the tests assert what the receiver did, not how long it took.
#![cfg(feature = "axum")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kie_core::receiver::{self, ReceiverLimits};
use kie_core::{CallbackInbox, CallbackVerifier, Client, MAX_CALLBACK_BODY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEY: &str = "whk-receiver";
/// The longest a test waits for what should happen at once: reaching it is a hang.
const HANG: Duration = Duration::from_secs(30);

fn limits() -> ReceiverLimits {
    ReceiverLimits::default()
        .header_timeout(Duration::from_millis(100))
        .body_timeout(Duration::from_millis(100))
        .request_timeout(Duration::from_millis(400))
}

/// A receiver with `limits` on 127.0.0.1; its address. Nothing it takes is confirmed
/// (the client points at a closed port): these tests are about connections.
async fn start(limits: ReceiverLimits) -> String {
    let client = Client::builder()
        .api_key("test-key")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("a valid configuration");
    let inbox = CallbackInbox::new(client, CallbackVerifier::new(KEY));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(receiver::serve(listener, inbox.router_with(limits), limits));
    addr
}

/// Everything the receiver sends until it closes the connection.
async fn answer(mut stream: TcpStream) -> String {
    let mut bytes = Vec::new();
    tokio::time::timeout(HANG, stream.read_to_end(&mut bytes))
        .await
        .expect("the receiver closes the connection")
        .expect("a clean close");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn head(length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nhost: receiver\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
}

/// Issue 11, item 13: `axum::serve` of the inbox router kept 200 slow-body connections
/// open for 17 s, with no limit.
#[tokio::test]
async fn stalled_bodies_are_answered_408_and_closed() {
    let addr = start(limits()).await;
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(head(1_000).as_bytes()).await.unwrap();
        stream.write_all(br#"{"code": 200, "da"#).await.unwrap();
        stalled.push(stream);
    }
    for stream in stalled {
        let answer = answer(stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_at_the_request_timeout() {
    let addr = start(limits()).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(head(100_000).as_bytes()).await.unwrap();
    // A byte at a time, each well within the body timeout: only the request timeout can
    // end it. Stop sending once the receiver answers (it reads no more).
    let mut answered = Vec::new();
    for _ in 0..100_000 {
        let mut buf = [0; 64];
        match stream.try_read(&mut buf) {
            Ok(n) => {
                answered.extend_from_slice(&buf[..n]);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        if stream.write_all(b" ").await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = String::from_utf8_lossy(&answered).into_owned() + &self::answer(stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn stalled_headers_are_closed() {
    let addr = start(limits()).await;
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nhost: rec")
            .await
            .unwrap();
        stalled.push(stream);
    }
    // A connection that sends nothing at all, too.
    stalled.push(TcpStream::connect(&addr).await.unwrap());
    for stream in stalled {
        let answer = answer(stream).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_one_to_close() {
    let addr = start(limits().max_connections(2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // The third is accepted by the kernel, but served only once a held one is closed
    // (here by the header timeout, since they send nothing).
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = r#"{"code": 200, "data": {"taskId": "t1", "state": "success"}}"#;
    let [(ts_name, ts), (sig_name, sig)] = kie_core::callback::signed_headers(KEY, "t1", now);
    let request = format!(
        "POST / HTTP/1.1\r\nhost: receiver\r\ncontent-length: {}\r\n{ts_name}: {ts}\r\n{sig_name}: {sig}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    third.write_all(request.as_bytes()).await.unwrap();
    let answer = answer(third).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A held connection was closed before it was served (the other times out at about
    // the same moment, but not necessarily before the third is answered).
    let closed = held
        .iter()
        .filter(|stream| matches!(stream.try_read(&mut [0; 1]), Ok(0)))
        .count();
    assert!(
        closed >= 1,
        "the third was served while both held connections were open"
    );
}

#[tokio::test]
async fn a_body_past_the_limit_is_refused_413() {
    let addr = start(limits()).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let length = MAX_CALLBACK_BODY + 1;
    stream.write_all(head(length).as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; length]).await.unwrap();
    let answer = answer(stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
