//! Commands about the account rather than a task: `kie credits`, `kie upload`.

use std::path::Path;

use kie::Client;
use serde_json::json;

use crate::failure::Failure;
use crate::output::Output;

/// `kie credits`: the remaining balance.
pub async fn credits(client: &Client) -> Result<Output, Failure> {
    let credits = client.credits().await?;
    Ok(Output::new(
        json!({ "credits": credits }),
        format!("{credits} credits"),
    ))
}

/// `kie upload`: sends a local file to kie.ai's file host and prints its URL, to use as
/// an image URL within the 3 days kie.ai keeps it.
pub async fn upload(client: &Client, file: &Path) -> Result<Output, Failure> {
    let uploaded = client.upload_file(file).await?;
    Ok(Output::new(
        json!({
            "url": uploaded.download_url,
            "file_name": uploaded.file_name,
            "size": uploaded.file_size,
            "mime_type": uploaded.mime_type,
        }),
        uploaded.download_url.clone(),
    ))
}
