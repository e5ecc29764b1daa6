//! Choosing the model at run time: the id comes from configuration (here, the command
//! line), the code is the same for every model.
//!
//!     cargo run -p kie-examples --example pick_model -- [MODEL_ID] [PROMPT]
//!
//! Without KIE_API_KEY, everything runs against a local emulator.

use std::sync::Arc;

use kie::{AspectRatio, Problem, ValidationError, VideoModel, VideoRequest, registry};

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let id = args
        .next()
        .unwrap_or_else(|| "hailuo/02-text-to-video-pro".to_owned());
    let prompt = args
        .next()
        .unwrap_or_else(|| "a lighthouse at dusk, waves below".to_owned());

    // An unknown id is an error that lists the models this build has.
    let model: Arc<dyn VideoModel> = registry::model(&id)?;
    eprintln!(
        "{} ({}): {}",
        model.id(),
        model.info().modality,
        model.info().summary
    );

    // One uniform request for every model. The product's policy: a model that cannot
    // take a preference goes without it; any other problem is a real error.
    let wanted = VideoRequest::new(prompt)
        .duration_secs(10)
        .aspect_ratio(AspectRatio::Landscape16x9);
    let request = without_unsupported(model.as_ref(), wanted)?;

    let (client, _emulator) = kie_examples::connect().await?;
    let task = model.submit(&client, &request).await?;
    eprintln!("task {} created", task.id());
    let video = task.wait().await?;
    println!("{}", video.video_url());
    Ok(())
}

/// Drops the preferences `model` says it does not support (each model names the field
/// and why), keeping every other check.
fn without_unsupported(
    model: &dyn VideoModel,
    mut request: VideoRequest,
) -> Result<VideoRequest, ValidationError> {
    let Err(invalid) = model.input_for(&request) else {
        return Ok(request);
    };
    let droppable = |field: &str| matches!(field, "duration_secs" | "aspect_ratio");
    let all_droppable = invalid
        .violations()
        .iter()
        .all(|v| matches!(v.problem, Problem::Unsupported { .. }) && droppable(&v.field));
    if !all_droppable {
        return Err(invalid);
    }
    for violation in invalid.violations() {
        match violation.field.as_str() {
            "duration_secs" => request.duration_secs = None,
            _ => request.aspect_ratio = None,
        }
        eprintln!(
            "  going without `{}`: {}",
            violation.field, violation.problem
        );
    }
    model.input_for(&request)?;
    Ok(request)
}
