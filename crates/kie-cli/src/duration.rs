//! Durations as a person types and reads them: `--max-wait 1h30m` in, "90 s" out.

use std::time::Duration;

/// A `--max-wait` value: a humantime duration (`90s`, `30m`, `1h30m`, `2h 15m`) or plain
/// seconds (`90`), longer than zero.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    const LIKE: &str = "give how long to wait, like 90s, 30m or 1h30m";
    if text.starts_with('-') {
        return Err(format!("{text:?} is negative: {LIKE}"));
    }
    let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| e.to_string())
    } else {
        humantime::parse_duration(text).map_err(|e| e.to_string())
    };
    match parsed {
        Ok(duration) if duration.is_zero() => Err(format!("{text:?} is no time at all: {LIKE}")),
        Ok(duration) => Ok(duration),
        Err(why) => Err(format!("{text:?} is not a duration ({why}): {LIKE}")),
    }
}

/// `duration` rounded to the second, in words: "0 s", "90 s", "2 min 5 s", "1 h 30 min".
/// Under two minutes it stays in seconds, which is how waits are read.
pub fn rounded(duration: Duration) -> String {
    let seconds = duration.as_secs() + u64::from(duration.subsec_millis() >= 500);
    if seconds < 120 {
        return format!("{seconds} s");
    }
    let parts = [
        (seconds / 3600, "h"),
        (seconds % 3600 / 60, "min"),
        (seconds % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humantime_durations_and_plain_seconds_parse() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("2h 15m"), Ok(Duration::from_secs(8100)));
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn negative_zero_and_unreadable_durations_say_what_to_give() {
        for (text, expected) in [
            (
                "-5m",
                "\"-5m\" is negative: give how long to wait, like 90s",
            ),
            ("0s", "\"0s\" is no time at all"),
            ("0", "\"0\" is no time at all"),
            ("soon", "\"soon\" is not a duration ("),
            ("2x", "\"2x\" is not a duration ("),
            ("", "\"\" is not a duration ("),
        ] {
            let error = parse(text).expect_err(text);
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn printed_durations_are_rounded_to_the_second() {
        assert_eq!(rounded(Duration::from_secs_f64(90.008_848_111)), "90 s");
        assert_eq!(rounded(Duration::from_millis(1_500)), "2 s");
        assert_eq!(rounded(Duration::from_millis(400)), "0 s");
        assert_eq!(rounded(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(rounded(Duration::from_secs(5_400)), "1 h 30 min");
        assert_eq!(rounded(Duration::from_secs(7_200)), "2 h");
    }
}
