//! Credits: the balance `GET /api/v1/chat/credit` reports and tasks pay from.
//!
//! Prices follow kie.ai's public pricing where it is known (Kling 2.1 Master 160/320
//! credits for 5/10 s, Hailuo 02 Pro 57 credits) and are plausible placeholders for the
//! models the pricing feed did not list; a test that cares sets its own with
//! `Config::prices`. A task pays when it is created, so an empty balance refuses the
//! createTask with 402, and a failed task is refunded unless configured otherwise.

use serde_json::{Value, json};

/// The built-in price of a task of `model` with this `input`, in credits.
pub(crate) fn default_price(model: &str, input: &Value) -> f64 {
    let field = |key: &str| input.get(key).and_then(Value::as_str);
    let long = field("duration") == Some("10") || field("n_frames") == Some("15");
    match model {
        "kling/v2-1-master-text-to-video" => {
            if long {
                320.0
            } else {
                160.0
            }
        }
        "hailuo/02-text-to-video-pro" => 57.0,
        "bytedance/v1-pro-text-to-video" => {
            let base = match field("resolution") {
                Some("480p") => 14.0,
                Some("1080p") => 60.0,
                _ => 30.0,
            };
            if long { base * 2.0 } else { base }
        }
        "bytedance/v1-pro-fast-image-to-video" => {
            let base = if field("resolution") == Some("1080p") {
                36.0
            } else {
                16.0
            };
            if long { base * 2.0 } else { base }
        }
        "sora-2-pro-text-to-video" => {
            let base = if field("size") == Some("standard") {
                150.0
            } else {
                330.0
            };
            if long { base * 1.8 } else { base }
        }
        _ => 100.0,
    }
}

/// A balance as JSON: an integer when whole (as the docs show), a float otherwise (as the
/// live API returned, e.g. `60.62`).
pub(crate) fn balance_json(balance: f64) -> Value {
    if balance.fract() == 0.0 && balance.abs() < 9.0e15 {
        json!(balance as i64)
    } else {
        json!((balance * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_prices() {
        assert_eq!(
            default_price(
                "kling/v2-1-master-text-to-video",
                &json!({"duration": "10"})
            ),
            320.0
        );
        assert_eq!(
            default_price("kling/v2-1-master-text-to-video", &json!({})),
            160.0
        );
        assert_eq!(
            default_price("hailuo/02-text-to-video-pro", &json!({})),
            57.0
        );
    }

    #[test]
    fn balance_is_integer_when_whole() {
        assert_eq!(balance_json(100.0), json!(100));
        assert_eq!(balance_json(60.62), json!(60.62));
    }
}
