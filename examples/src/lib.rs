//! What every example shares: a client for kie.ai, or for a local emulator when no
//! account is configured.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use kie::Client;
use kie_emulator::Emulator;

/// A client for kie.ai when `KIE_API_KEY` is set (and not empty); otherwise for an emulator started
/// in-process on 127.0.0.1 with a fast clock (returned too: keep it alive).
///
/// # Errors
///
/// A configuration error from the environment, or an emulator that cannot start.
pub async fn connect() -> Result<(Client, Option<Emulator>), Box<dyn std::error::Error>> {
    if std::env::var("KIE_API_KEY").is_ok_and(|key| !key.trim().is_empty()) {
        eprintln!("using kie.ai (KIE_API_KEY is set); this spends credits");
        return Ok((Client::from_env()?, None));
    }
    let emulator = Emulator::builder().speed(30.0).start().await?;
    eprintln!(
        "KIE_API_KEY is not set: using a local emulator at {}",
        emulator.base_url()
    );
    let client = Client::builder()
        .api_key("emulator")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()?;
    Ok((client, Some(emulator)))
}

/// Runs an example's body and reports a failure in plain words (its `Display`, not a
/// `Debug` dump), exiting with status 1.
pub fn report(result: Result<(), Box<dyn std::error::Error>>) {
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
