//! Reaching kie.ai, or an emulator started in this process.

use kie::Client;
use kie_emulator::Emulator;
use secrecy::ExposeSecret;

use crate::cli::Connection;
use crate::failure::Failure;

/// The virtual clock speed of `--emulator`: a minute of generation per real second, so
/// a Kling video takes seconds and every state still shows.
const EMULATOR_SPEED: f64 = 60.0;

/// A client, and the emulator behind it when `--emulator` started one (kept alive for
/// as long as the client is used).
pub struct Connected {
    /// The client.
    pub client: Client,
    /// The in-process emulator, with `--emulator`.
    pub emulator: Option<Emulator>,
}

/// Builds the client the flags and environment describe; with `--emulator`, starts an
/// emulator first and says so on stderr (nothing goes to kie.ai then).
pub async fn connect(connection: &Connection) -> Result<Connected, Failure> {
    if !connection.emulator {
        let key = connection
            .api_key
            .as_ref()
            .map(|key| key.expose_secret().trim())
            .filter(|key| !key.is_empty())
            .ok_or_else(Failure::no_key)?;
        let mut builder = Client::builder().api_key(key);
        if let Some(url) = &connection.base_url {
            builder = builder.base_url(url);
        }
        if let Some(url) = &connection.upload_base_url {
            builder = builder.upload_base_url(url);
        }
        let client = builder.build().map_err(Failure::from)?;
        return Ok(Connected {
            client,
            emulator: None,
        });
    }
    let emulator = Emulator::builder()
        .speed(EMULATOR_SPEED)
        .start()
        .await
        .map_err(|e| Failure::local(format!("could not start the emulator: {e}")))?;
    eprintln!(
        "kie: --emulator: using a local kie.ai at {} (no account, nothing leaves this machine; \
         a minute of generation takes a second)",
        emulator.base_url()
    );
    let client = Client::builder()
        .api_key("emulator")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()
        .map_err(Failure::from)?;
    Ok(Connected {
        client,
        emulator: Some(emulator),
    })
}
