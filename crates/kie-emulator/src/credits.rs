//! Credits: the balance `GET /api/v1/chat/credit` reports and tasks pay from, and the
//! price table tasks pay by.
//!
//! kie.ai's documentation states no prices. The table ([`PRICES`]) copies the rows of
//! the public price list behind <https://kie.ai/pricing> (the feed
//! `POST https://api.kie.ai/client/v1/model-pricing/page`) as a public catalogue
//! recorded them on 2026-09-24, in credits, keyed by model id; where the feed prices a
//! model by the second, so does the table (times the request's `duration`), and where it
//! prices by resolution, duration, sound or video input, the row says which input
//! values it is for. The crate README lists the sources and the cross-checks. Prices at
//! kie.ai change (Seedance 2 Fast's did between April and August 2026): the table is a
//! dated snapshot, not a promise.
//!
//! A model the feed does not price (Sora 2, Bytedance V1, the models priced by the
//! length of an input file: motion control, avatars, upscalers...), or a request no row
//! matches (a combination the feed does not list, a per-second model without a
//! duration), pays [`PLACEHOLDER_PRICE`]: a round number of the emulator's own, not
//! kie.ai's. A test that cares about a price sets its own with `Config::prices`
//! (`Emulator::set_price`).
//!
//! A task pays when it is created, so an empty balance refuses the createTask with 402,
//! and a failed task is refunded unless configured otherwise.

use serde_json::{Value, json};

/// What a task pays when the table has no price for it: the emulator's own round
/// number, not a kie.ai price.
pub(crate) const PLACEHOLDER_PRICE: f64 = 100.0;

/// One price: for `model`, when every condition holds of the request's `input`,
/// `credits` per task or per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub model: &'static str,
    pub when: &'static [When],
    pub credits: f64,
    pub per: Per,
}

/// A condition on one field of the request's `input`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum When {
    /// The field has this value, compared as JSON writes it without quotes (`"5"`
    /// matches `"5"` and `5`, `"true"` matches `true`).
    Is(&'static str, &'static str),
    /// The same, or the field is absent and this value is its documented default.
    IsOrDefault(&'static str, &'static str),
    /// The field is a non-empty list (an input file was given: "with video input").
    Given(&'static str),
    /// The field is absent, `null` or an empty list.
    NotGiven(&'static str),
}

/// What a row's credits are for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Per {
    /// One task.
    Task,
    /// One second of the video: times `input.<field>` (a number or numeric text), or
    /// times `default` when the field is absent; no price without either.
    Second {
        field: &'static str,
        default: Option<f64>,
    },
}

impl When {
    fn holds(self, input: &Value) -> bool {
        match self {
            When::Is(field, value) => input.get(field).is_some_and(|v| text_is(v, value)),
            When::IsOrDefault(field, value) => match input.get(field) {
                None | Some(Value::Null) => true,
                Some(v) => text_is(v, value),
            },
            When::Given(field) => given(input.get(field)),
            When::NotGiven(field) => !given(input.get(field)),
        }
    }
}

fn text_is(value: &Value, expected: &str) -> bool {
    match value {
        Value::String(s) => s == expected,
        Value::Number(n) => n.to_string() == expected,
        Value::Bool(b) => b.to_string() == expected,
        _ => false,
    }
}

fn given(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        _ => false,
    }
}

fn seconds(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s: &f64| s.is_finite() && *s > 0.0)
}

/// The table's price of a task of `model` with this `input`, in credits (rounded to a
/// hundredth), or `None` when no row matches.
pub(crate) fn table_price(model: &str, input: &Value) -> Option<f64> {
    let row = PRICES
        .iter()
        .find(|row| row.model == model && row.when.iter().all(|when| when.holds(input)))?;
    let credits = match row.per {
        Per::Task => row.credits,
        Per::Second { field, default } => row.credits * seconds(input.get(field)).or(default)?,
    };
    Some((credits * 100.0).round() / 100.0)
}

/// The built-in price of a task of `model` with this `input`: the table's, else
/// [`PLACEHOLDER_PRICE`].
pub(crate) fn default_price(model: &str, input: &Value) -> f64 {
    table_price(model, input).unwrap_or(PLACEHOLDER_PRICE)
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

use Per::Task;
use When::{Given, Is, IsOrDefault as OrDefault, NotGiven};

/// Per second of `input.duration`, which defaults to `default` seconds.
const fn per_second(default: Option<f64>) -> Per {
    Per::Second {
        field: "duration",
        default,
    }
}

/// A price row.
const fn row(model: &'static str, when: &'static [When], credits: f64, per: Per) -> Row {
    Row {
        model,
        when,
        credits,
        per,
    }
}

/// kie.ai's prices, in credits, from its pricing feed as recorded on 2026-09-24 (see the
/// module documentation and the crate README for the sources). Each row's conditions
/// name the input fields and values of the feed row it copies (its label in a comment
/// where the mapping is not obvious), with the model page's documented defaults; the
/// first matching row of a model wins.
#[rustfmt::skip]
pub(crate) static PRICES: &[Row] = &[
    // Kling 2.1: "Kling 2.1, text-to-video, Master-5.0s" 160, "-10.0s" 320, and alike.
    row("kling/v2-1-master-text-to-video", &[OrDefault("duration", "5")], 160.0, Task),
    row("kling/v2-1-master-text-to-video", &[Is("duration", "10")], 320.0, Task),
    row("kling/v2-1-master-image-to-video", &[OrDefault("duration", "5")], 160.0, Task),
    row("kling/v2-1-master-image-to-video", &[Is("duration", "10")], 320.0, Task),
    row("kling/v2-1-pro", &[OrDefault("duration", "5")], 50.0, Task),
    row("kling/v2-1-pro", &[Is("duration", "10")], 100.0, Task),
    row("kling/v2-1-standard", &[OrDefault("duration", "5")], 25.0, Task),
    row("kling/v2-1-standard", &[Is("duration", "10")], 50.0, Task),
    // Kling 2.5 Turbo Pro: 42 for 5 s, 84 for 10 s.
    row("kling/v2-5-turbo-text-to-video-pro", &[OrDefault("duration", "5")], 42.0, Task),
    row("kling/v2-5-turbo-text-to-video-pro", &[Is("duration", "10")], 84.0, Task),
    row("kling/v2-5-turbo-image-to-video-pro", &[OrDefault("duration", "5")], 42.0, Task),
    row("kling/v2-5-turbo-image-to-video-pro", &[Is("duration", "10")], 84.0, Task),
    // Kling 2.6: "kling 2.6, text-to-video, without audio-5.0s" 55, "with audio-5.0s"
    // 110, "without audio-10.0s" 110, "with audio-10.0s" 220. `sound` is required.
    row("kling-2.6/text-to-video", &[OrDefault("duration", "5"), Is("sound", "false")], 55.0, Task),
    row("kling-2.6/text-to-video", &[OrDefault("duration", "5"), Is("sound", "true")], 110.0, Task),
    row("kling-2.6/text-to-video", &[Is("duration", "10"), Is("sound", "false")], 110.0, Task),
    row("kling-2.6/text-to-video", &[Is("duration", "10"), Is("sound", "true")], 220.0, Task),
    row("kling-2.6/image-to-video", &[OrDefault("duration", "5"), Is("sound", "false")], 55.0, Task),
    row("kling-2.6/image-to-video", &[OrDefault("duration", "5"), Is("sound", "true")], 110.0, Task),
    row("kling-2.6/image-to-video", &[Is("duration", "10"), Is("sound", "false")], 110.0, Task),
    row("kling-2.6/image-to-video", &[Is("duration", "10"), Is("sound", "true")], 220.0, Task),
    // Kling 3.0, per second: "without audio-720P" 14, "with audio-720P" 20,
    // "without audio-1080P" 18, "with audio-1080P" 27, 4K 67 either way. `mode` std is
    // 720p, pro (the default) 1080p; `sound` defaults to false, `duration` to 5.
    row("kling-3.0/video", &[Is("mode", "std"), OrDefault("sound", "false")], 14.0, per_second(Some(5.0))),
    row("kling-3.0/video", &[Is("mode", "std"), Is("sound", "true")], 20.0, per_second(Some(5.0))),
    row("kling-3.0/video", &[OrDefault("mode", "pro"), OrDefault("sound", "false")], 18.0, per_second(Some(5.0))),
    row("kling-3.0/video", &[OrDefault("mode", "pro"), Is("sound", "true")], 27.0, per_second(Some(5.0))),
    row("kling-3.0/video", &[Is("mode", "4K")], 67.0, per_second(Some(5.0))),
    // Hailuo 02: "hailuo 02, text-to-video, Pro-6.0s-1080p" 57 (the Pro models take no
    // duration or resolution); Standard "6.0s-768p" 30, "10.0s-768p" 50; image-to-video
    // Standard "6.0s-512p" 12, "10.0s-512p" 20, "10.0s-768p" 50 (no 6 s 768P row).
    row("hailuo/02-text-to-video-pro", &[], 57.0, Task),
    row("hailuo/02-image-to-video-pro", &[], 57.0, Task),
    row("hailuo/02-text-to-video-standard", &[OrDefault("duration", "6")], 30.0, Task),
    row("hailuo/02-text-to-video-standard", &[Is("duration", "10")], 50.0, Task),
    row("hailuo/02-image-to-video-standard", &[Is("duration", "6"), Is("resolution", "512P")], 12.0, Task),
    row("hailuo/02-image-to-video-standard", &[OrDefault("duration", "10"), Is("resolution", "512P")], 20.0, Task),
    row("hailuo/02-image-to-video-standard", &[OrDefault("duration", "10"), OrDefault("resolution", "768P")], 50.0, Task),
    // Hailuo 2.3: Pro "6.0s-768p" 45, "6.0s-1080p" 80, "10.0s-768p" 90; Standard 30,
    // 50, 50 (10 s is not offered at 1080P).
    row("hailuo/2-3-image-to-video-pro", &[OrDefault("duration", "6"), OrDefault("resolution", "768P")], 45.0, Task),
    row("hailuo/2-3-image-to-video-pro", &[OrDefault("duration", "6"), Is("resolution", "1080P")], 80.0, Task),
    row("hailuo/2-3-image-to-video-pro", &[Is("duration", "10"), OrDefault("resolution", "768P")], 90.0, Task),
    row("hailuo/2-3-image-to-video-standard", &[OrDefault("duration", "6"), OrDefault("resolution", "768P")], 30.0, Task),
    row("hailuo/2-3-image-to-video-standard", &[OrDefault("duration", "6"), Is("resolution", "1080P")], 50.0, Task),
    row("hailuo/2-3-image-to-video-standard", &[Is("duration", "10"), OrDefault("resolution", "768P")], 50.0, Task),
    // Seedance 2, per second: "bytedance/seedance-2, 720p no video input" 41, "720p
    // with video input" 25, and alike; "with video input" is a non-empty
    // `reference_video_urls`. `resolution` defaults to 720p, `duration` to 5.
    row("bytedance/seedance-2", &[Is("resolution", "480p"), NotGiven("reference_video_urls")], 19.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[Is("resolution", "480p"), Given("reference_video_urls")], 11.5, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[OrDefault("resolution", "720p"), NotGiven("reference_video_urls")], 41.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[OrDefault("resolution", "720p"), Given("reference_video_urls")], 25.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[Is("resolution", "1080p"), NotGiven("reference_video_urls")], 102.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[Is("resolution", "1080p"), Given("reference_video_urls")], 62.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[Is("resolution", "4K"), NotGiven("reference_video_urls")], 208.0, per_second(Some(5.0))),
    row("bytedance/seedance-2", &[Is("resolution", "4K"), Given("reference_video_urls")], 128.0, per_second(Some(5.0))),
    // Seedance 2 Fast: "bytedance/seedance-2 fast, 480p no video input" 11.7 per second...
    row("bytedance/seedance-2-fast", &[Is("resolution", "480p"), NotGiven("reference_video_urls")], 11.7, per_second(Some(5.0))),
    row("bytedance/seedance-2-fast", &[Is("resolution", "480p"), Given("reference_video_urls")], 6.8, per_second(Some(5.0))),
    row("bytedance/seedance-2-fast", &[OrDefault("resolution", "720p"), NotGiven("reference_video_urls")], 24.8, per_second(Some(5.0))),
    row("bytedance/seedance-2-fast", &[OrDefault("resolution", "720p"), Given("reference_video_urls")], 15.0, per_second(Some(5.0))),
    // Seedance 1.5 Pro, per second: "with audio-720p" 7, "without audio-720p" 3.5, and
    // alike; `generate_audio` defaults to false, `resolution` to 720p; `duration` has
    // no default.
    row("bytedance/seedance-1.5-pro", &[Is("resolution", "480p"), OrDefault("generate_audio", "false")], 1.75, per_second(None)),
    row("bytedance/seedance-1.5-pro", &[Is("resolution", "480p"), Is("generate_audio", "true")], 3.5, per_second(None)),
    row("bytedance/seedance-1.5-pro", &[OrDefault("resolution", "720p"), OrDefault("generate_audio", "false")], 3.5, per_second(None)),
    row("bytedance/seedance-1.5-pro", &[OrDefault("resolution", "720p"), Is("generate_audio", "true")], 7.0, per_second(None)),
    row("bytedance/seedance-1.5-pro", &[Is("resolution", "1080p"), OrDefault("generate_audio", "false")], 7.5, per_second(None)),
    row("bytedance/seedance-1.5-pro", &[Is("resolution", "1080p"), Is("generate_audio", "true")], 15.0, per_second(None)),
    // Grok Imagine, per second: 480p (the default) 2.4, 720p 4.5, 1080p 8; `duration`
    // has no default.
    row("grok-imagine/text-to-video", &[OrDefault("resolution", "480p")], 2.4, per_second(None)),
    row("grok-imagine/text-to-video", &[Is("resolution", "720p")], 4.5, per_second(None)),
    row("grok-imagine/text-to-video", &[Is("resolution", "1080p")], 8.0, per_second(None)),
    row("grok-imagine/image-to-video", &[OrDefault("resolution", "480p")], 2.4, per_second(None)),
    row("grok-imagine/image-to-video", &[Is("resolution", "720p")], 4.5, per_second(None)),
    row("grok-imagine/image-to-video", &[Is("resolution", "1080p")], 8.0, per_second(None)),
    // HappyHorse 1.0, per second: 720p 28, 1080p (the default) 48; `duration` defaults
    // to 5.
    row("happyhorse/text-to-video", &[Is("resolution", "720p")], 28.0, per_second(Some(5.0))),
    row("happyhorse/text-to-video", &[OrDefault("resolution", "1080p")], 48.0, per_second(Some(5.0))),
    row("happyhorse/image-to-video", &[Is("resolution", "720p")], 28.0, per_second(Some(5.0))),
    row("happyhorse/image-to-video", &[OrDefault("resolution", "1080p")], 48.0, per_second(Some(5.0))),
    row("happyhorse/reference-to-video", &[Is("resolution", "720p")], 28.0, per_second(Some(5.0))),
    row("happyhorse/reference-to-video", &[OrDefault("resolution", "1080p")], 48.0, per_second(Some(5.0))),
    // Wan 2.2 A14B Turbo: "wan 2.2, text-to-video, 5.0s-480p" 40, "5.0s-580p" 60,
    // "5.0s-720p" 80 (the default resolution; the models take no duration).
    row("wan/2-2-a14b-text-to-video-turbo", &[Is("resolution", "480p")], 40.0, Task),
    row("wan/2-2-a14b-text-to-video-turbo", &[Is("resolution", "580p")], 60.0, Task),
    row("wan/2-2-a14b-text-to-video-turbo", &[OrDefault("resolution", "720p")], 80.0, Task),
    row("wan/2-2-a14b-image-to-video-turbo", &[Is("resolution", "480p")], 40.0, Task),
    row("wan/2-2-a14b-image-to-video-turbo", &[Is("resolution", "580p")], 60.0, Task),
    row("wan/2-2-a14b-image-to-video-turbo", &[OrDefault("resolution", "720p")], 80.0, Task),
    // Wan 2.5: "default-5.0s-720p" 60, "5.0s-1080p" 100, "10.0s-720p" 120,
    // "10.0s-1080p" 200; both fields are required.
    row("wan/2-5-text-to-video", &[Is("duration", "5"), Is("resolution", "720p")], 60.0, Task),
    row("wan/2-5-text-to-video", &[Is("duration", "5"), Is("resolution", "1080p")], 100.0, Task),
    row("wan/2-5-text-to-video", &[Is("duration", "10"), Is("resolution", "720p")], 120.0, Task),
    row("wan/2-5-text-to-video", &[Is("duration", "10"), Is("resolution", "1080p")], 200.0, Task),
    row("wan/2-5-image-to-video", &[Is("duration", "5"), Is("resolution", "720p")], 60.0, Task),
    row("wan/2-5-image-to-video", &[Is("duration", "5"), Is("resolution", "1080p")], 100.0, Task),
    row("wan/2-5-image-to-video", &[Is("duration", "10"), Is("resolution", "720p")], 120.0, Task),
    row("wan/2-5-image-to-video", &[Is("duration", "10"), Is("resolution", "1080p")], 200.0, Task),
    // Wan 2.6: "5.0s-720p" 70, "5.0s-1080p" 104.5, "10.0s-720p" 140, "10.0s-1080p"
    // 209.5, "15.0s-720p" 210, "15.0s-1080p" 315; `duration` defaults to 5,
    // `resolution` to 1080p; video-to-video has no 15 s.
    row("wan/2-6-text-to-video", &[OrDefault("duration", "5"), Is("resolution", "720p")], 70.0, Task),
    row("wan/2-6-text-to-video", &[OrDefault("duration", "5"), OrDefault("resolution", "1080p")], 104.5, Task),
    row("wan/2-6-text-to-video", &[Is("duration", "10"), Is("resolution", "720p")], 140.0, Task),
    row("wan/2-6-text-to-video", &[Is("duration", "10"), OrDefault("resolution", "1080p")], 209.5, Task),
    row("wan/2-6-text-to-video", &[Is("duration", "15"), Is("resolution", "720p")], 210.0, Task),
    row("wan/2-6-text-to-video", &[Is("duration", "15"), OrDefault("resolution", "1080p")], 315.0, Task),
    row("wan/2-6-image-to-video", &[OrDefault("duration", "5"), Is("resolution", "720p")], 70.0, Task),
    row("wan/2-6-image-to-video", &[OrDefault("duration", "5"), OrDefault("resolution", "1080p")], 104.5, Task),
    row("wan/2-6-image-to-video", &[Is("duration", "10"), Is("resolution", "720p")], 140.0, Task),
    row("wan/2-6-image-to-video", &[Is("duration", "10"), OrDefault("resolution", "1080p")], 209.5, Task),
    row("wan/2-6-image-to-video", &[Is("duration", "15"), Is("resolution", "720p")], 210.0, Task),
    row("wan/2-6-image-to-video", &[Is("duration", "15"), OrDefault("resolution", "1080p")], 315.0, Task),
    row("wan/2-6-video-to-video", &[OrDefault("duration", "5"), Is("resolution", "720p")], 70.0, Task),
    row("wan/2-6-video-to-video", &[OrDefault("duration", "5"), OrDefault("resolution", "1080p")], 104.5, Task),
    row("wan/2-6-video-to-video", &[Is("duration", "10"), Is("resolution", "720p")], 140.0, Task),
    row("wan/2-6-video-to-video", &[Is("duration", "10"), OrDefault("resolution", "1080p")], 209.5, Task),
    // Wan 2.7, per second: 720p 16, 1080p (the default) 24; `duration` defaults to 5.
    row("wan/2-7-text-to-video", &[Is("resolution", "720p")], 16.0, per_second(Some(5.0))),
    row("wan/2-7-text-to-video", &[OrDefault("resolution", "1080p")], 24.0, per_second(Some(5.0))),
    row("wan/2-7-image-to-video", &[Is("resolution", "720p")], 16.0, per_second(Some(5.0))),
    row("wan/2-7-image-to-video", &[OrDefault("resolution", "1080p")], 24.0, per_second(Some(5.0))),
    row("wan/2-7-r2v", &[Is("resolution", "720p")], 16.0, per_second(Some(5.0))),
    row("wan/2-7-r2v", &[OrDefault("resolution", "1080p")], 24.0, per_second(Some(5.0))),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn price(model: &str, input: Value) -> f64 {
        default_price(model, &input)
    }

    #[test]
    fn per_task_prices_by_duration_with_the_documented_default() {
        let kling = "kling/v2-1-master-text-to-video";
        assert_eq!(price(kling, json!({"duration": "10"})), 320.0);
        assert_eq!(price(kling, json!({"duration": "5"})), 160.0);
        assert_eq!(price(kling, json!({})), 160.0, "duration defaults to 5");
        assert_eq!(price("hailuo/02-text-to-video-pro", json!({})), 57.0);
        assert_eq!(
            price("kling/v2-1-standard", json!({"duration": "10"})),
            50.0
        );
    }

    #[test]
    fn sound_and_duration_pick_the_kling_2_6_row() {
        let model = "kling-2.6/text-to-video";
        assert_eq!(price(model, json!({"duration": "5", "sound": false})), 55.0);
        assert_eq!(price(model, json!({"duration": "5", "sound": true})), 110.0);
        assert_eq!(
            price(model, json!({"duration": "10", "sound": false})),
            110.0
        );
        assert_eq!(
            price(model, json!({"duration": "10", "sound": true})),
            220.0
        );
        // `sound` is required and has no default: no row, so the placeholder.
        assert_eq!(table_price(model, &json!({"duration": "5"})), None);
        assert_eq!(price(model, json!({"duration": "5"})), PLACEHOLDER_PRICE);
    }

    #[test]
    fn per_second_prices_multiply_the_duration() {
        let kling3 = "kling-3.0/video";
        assert_eq!(
            price(kling3, json!({"duration": "10", "mode": "std"})),
            140.0
        );
        assert_eq!(
            price(
                kling3,
                json!({"duration": "10", "mode": "std", "sound": true})
            ),
            200.0
        );
        assert_eq!(
            price(kling3, json!({})),
            90.0,
            "pro, no sound, 5 s by default"
        );
        assert_eq!(
            price(
                kling3,
                json!({"duration": "3", "mode": "4K", "sound": true})
            ),
            201.0
        );
        // Durations as numbers (Seedance) or text (Kling) alike.
        assert_eq!(
            price("bytedance/seedance-2", json!({"duration": 10})),
            410.0
        );
        assert_eq!(
            price("bytedance/seedance-2", json!({"duration": "10"})),
            410.0
        );
    }

    #[test]
    fn seedance_prices_by_resolution_and_video_input() {
        let model = "bytedance/seedance-2";
        assert_eq!(
            price(model, json!({"resolution": "480p", "duration": 4})),
            76.0
        );
        assert_eq!(
            price(
                model,
                json!({"resolution": "480p", "duration": 4, "reference_video_urls": ["https://x/v.mp4"]})
            ),
            46.0
        );
        assert_eq!(
            price(
                model,
                json!({"resolution": "1080p", "reference_video_urls": []})
            ),
            510.0,
            "an empty list is no video input"
        );
        // Fractional rates stay exact to the hundredth.
        assert_eq!(
            price(
                "bytedance/seedance-2-fast",
                json!({"resolution": "480p", "duration": 7})
            ),
            81.9
        );
        assert_eq!(
            price("bytedance/seedance-2-fast", json!({"duration": 5})),
            124.0
        );
    }

    #[test]
    fn hailuo_2_3_prices_each_listed_combination() {
        let pro = "hailuo/2-3-image-to-video-pro";
        assert_eq!(price(pro, json!({})), 45.0);
        assert_eq!(price(pro, json!({"resolution": "1080P"})), 80.0);
        assert_eq!(price(pro, json!({"duration": "10"})), 90.0);
        assert_eq!(
            table_price(pro, &json!({"duration": "10", "resolution": "1080P"})),
            None
        );
        let standard = "hailuo/02-image-to-video-standard";
        assert_eq!(price(standard, json!({})), 50.0, "10 s at 768P by default");
        assert_eq!(
            table_price(standard, &json!({"duration": "6"})),
            None,
            "the feed has no 6 s 768P row for image-to-video"
        );
    }

    #[test]
    fn a_per_second_model_without_a_duration_or_default_has_no_price() {
        assert_eq!(table_price("grok-imagine/text-to-video", &json!({})), None);
        assert_eq!(
            table_price("grok-imagine/text-to-video", &json!({"duration": 6})),
            Some(14.4)
        );
        assert_eq!(
            table_price(
                "bytedance/seedance-1.5-pro",
                &json!({"duration": "8", "generate_audio": true})
            ),
            Some(56.0)
        );
        assert_eq!(
            table_price("grok-imagine/text-to-video", &json!({"duration": "x"})),
            None
        );
    }

    #[test]
    fn models_without_a_known_price_pay_the_placeholder() {
        for model in [
            "sora-2-pro-text-to-video",
            "sora-2-characters",
            "bytedance/v1-pro-text-to-video",
            "kling-2.6/motion-control",
            "some/unknown-model",
        ] {
            assert_eq!(table_price(model, &json!({})), None, "{model}");
            assert_eq!(
                price(model, json!({"duration": "10"})),
                PLACEHOLDER_PRICE,
                "{model}"
            );
        }
    }

    #[test]
    fn no_row_is_shadowed_by_a_looser_earlier_one() {
        for (i, row) in PRICES.iter().enumerate() {
            assert!(row.credits > 0.0, "{row:?}");
            let shadowed = PRICES[..i].iter().any(|earlier| {
                earlier.model == row.model
                    && earlier.when.len() <= row.when.len()
                    && earlier.when.iter().all(|e| {
                        row.when
                            .iter()
                            .any(|w| format!("{w:?}") == format!("{e:?}"))
                    })
            });
            assert!(!shadowed, "row {i} is shadowed by an earlier one: {row:?}");
        }
    }

    #[test]
    fn balance_is_integer_when_whole() {
        assert_eq!(balance_json(100.0), json!(100));
        assert_eq!(balance_json(60.62), json!(60.62));
    }
}
