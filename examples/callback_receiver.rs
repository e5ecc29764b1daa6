//! A callback receiver: an axum server that verifies kie.ai's signed callbacks, drops
//! duplicates, hands each one to the application, and lets waits end on them.
//!
//!     cargo run -p kie-examples --example callback_receiver
//!
//! With kie.ai, set KIE_WEBHOOK_KEY (from https://kie.ai/settings) and KIE_CALLBACK_URL
//! (a public URL that forwards to this server); without KIE_API_KEY, a local emulator
//! sends the callbacks.

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
    let inbox = CallbackInbox::new(CallbackVerifier::new(key));

    // Serve the inbox: POST / verifies, de-duplicates and answers 200 at once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let local = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(axum::serve(listener, inbox.router()).into_future());
    let callback_url = std::env::var("KIE_CALLBACK_URL").unwrap_or(local);
    eprintln!("receiving callbacks at {callback_url}");

    // The application's view: every new callback, in order.
    let mut events = inbox.subscribe();
    tokio::spawn(async move {
        while let Ok(callback) = events.recv().await {
            eprintln!(
                "callback: task {} is {}",
                callback.task_id(),
                callback.state()
            );
        }
    });

    let model = registry::model("hailuo/02-text-to-video-pro")?;
    let request =
        VideoRequest::new("a paper boat drifting down a rainy street").callback_url(&callback_url);
    let task = model.submit(&client, &request).await?;
    eprintln!("task {} created; waiting for its callback", task.id());

    // Ends on the callback (confirmed by one recordInfo call); polls every 2-3 min if
    // none comes.
    let video = task.wait().callbacks(&inbox).await?;
    println!("{}", video.video_url());
    Ok(())
}
