//! Tests against the real kie.ai. Ignored by default; run them with a key:
//!
//!     KIE_API_KEY=... cargo test -p kie-core --test it live -- --ignored
//!
//! They make only free calls (credits, a record that does not exist).

use kie_core::{ApiCode, Client};

fn live_client() -> Client {
    Client::from_env().expect("set KIE_API_KEY to run the live tests")
}

#[tokio::test]
#[ignore = "needs KIE_API_KEY and the network"]
async fn live_credits_are_a_number() {
    let credits = live_client().credits().await.expect("credits");
    assert!(credits >= 0.0, "{credits}");
}

#[tokio::test]
#[ignore = "needs KIE_API_KEY and the network"]
async fn live_unknown_task_is_refused_with_its_id() {
    let err = live_client()
        .record("00000000000000000000000000000000")
        .await
        .expect_err("no such task");
    assert!(
        matches!(
            err.api_code(),
            Some(ApiCode::ValidationFailed | ApiCode::NotFound)
        ),
        "{err}"
    );
    assert_eq!(err.task_id(), Some("00000000000000000000000000000000"));
}
