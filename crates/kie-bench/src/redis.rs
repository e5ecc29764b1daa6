//! A Redis server for the benchmarks that share a budget across processes: the one the
//! caller names, or a `redis-server` from `PATH` on a free loopback port, stopped when
//! dropped.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::BoxError;

/// A Redis server to use.
pub struct RedisServer {
    /// `redis://127.0.0.1:PORT/`.
    pub url: String,
    _child: Option<Child>,
}

impl RedisServer {
    /// `url` if given, else a fresh `redis-server` without persistence.
    pub async fn start(url: Option<&str>) -> Result<Self, BoxError> {
        if let Some(url) = url {
            return Ok(Self {
                url: url.to_owned(),
                _child: None,
            });
        }
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("no redis-server on PATH ({e}); pass --redis URL"))?;
        for _ in 0..100 {
            if ping(port).await {
                return Ok(Self {
                    url: format!("redis://127.0.0.1:{port}/"),
                    _child: Some(child),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("redis-server on port {port} did not answer PING").into())
    }
}

/// Whether a Redis server on `port` answers `PING`.
async fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").await.is_ok()
        && stream.read_exact(&mut answer).await.is_ok()
        && &answer == b"+PONG\r\n"
}
