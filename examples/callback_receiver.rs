//! A callback receiver: a server that verifies kie.ai's signed callbacks, drops
//! duplicates and replays, confirms each new one with recordInfo, hands what kie.ai
//! confirmed to the application, and lets waits end on it.
//!
//!     cargo run -p kie-examples --example callback_receiver
//!
//! With kie.ai, set KIE_WEBHOOK_KEY (from https://kie.ai/settings) and KIE_CALLBACK_URL
//! (a public URL that forwards to this server); without KIE_API_KEY, a local emulator
//! sends the callbacks.

use kie::receiver::{self, ReceiverLimits};
use kie::{CallbackInbox, CallbackVerifier, VideoRequest, registry};

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (client, emulator) = kie_examples::connect().await?;
    let key = match &emulator {
        Some(emulator) => emulator.webhook_key().unwrap_or_default().to_owned(),
        None => std::env::var("KIE_WEBHOOK_KEY")?,
    };
    // The client confirms each callback: its body is only a hint (kie.ai signs the task
    // id and the time, not the body).
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key));

    // Serve the inbox: POST / verifies, de-duplicates and answers 200 at once. `serve`
    // bounds slow clients (header, body and request timeouts) and connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let local = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(receiver::serve(
        listener,
        inbox.router(),
        ReceiverLimits::default(),
    ));
    let callback_url = std::env::var("KIE_CALLBACK_URL").unwrap_or(local);
    eprintln!("receiving callbacks at {callback_url}");

    // The application's view: each change a callback announced, as recordInfo
    // confirmed it.
    let mut events = inbox.subscribe();
    tokio::spawn(async move {
        while let Ok(record) = events.recv().await {
            eprintln!("callback: task {} is {}", record.task_id, record.state);
        }
    });

    let model = registry::model("hailuo/02-text-to-video-pro")?;
    let request =
        VideoRequest::new("a paper boat drifting down a rainy street").callback_url(&callback_url);
    let task = model.submit(&client, &request).await?;
    eprintln!("task {} created; waiting for its callback", task.id());

    // Ends on the callback (the inbox's one recordInfo call); polls every 2-3 min if
    // none comes.
    let video = task.wait().callbacks(&inbox).await?;
    println!("{}", video.video_url());
    Ok(())
}
