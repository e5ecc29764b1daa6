//! Text from kie.ai made safe to print. A task's `failMsg`, a record's URLs and state
//! names, an error's text: any of it may hold control characters, which a terminal
//! obeys (clear the screen, set the window title, rewrite a line with `\r`) and bidi
//! overrides, which make a line read otherwise than it is. Everything the CLI prints
//! passes through here at the printing boundary (`output`, `failure`, `progress`), so
//! no path can forget it.

use std::borrow::Cow;

use serde_json::Value;

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls, DEL, and the
/// bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` for one line of a terminal: every unsafe character, line breaks included,
/// written out as an escape (`\n`, `\u{1b}`), so that it shows instead of acting.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` for a terminal, keeping its line breaks (for our own multi-line output) and
/// escaping every other unsafe character.
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let kept = |c: char| !is_unsafe(c) || (keep_newlines && c == '\n');
    if text.chars().all(kept) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) => escaped.push(c),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(escaped)
}

/// `document` as one line of JSON in which every unsafe character is a `\uXXXX`
/// escape. serde_json escapes C0 controls itself but writes DEL, C1 controls and bidi
/// overrides as they are; they can occur only inside strings, where the escape means
/// the same character, so the document stays valid and parses to the same value.
pub fn json(document: &Value) -> String {
    let text = document.to_string();
    if !text.chars().any(is_unsafe) {
        return text;
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            // Every unsafe character is in the Basic Multilingual Plane.
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "GPU \u{1b}[2J\u{1b}]0;pwned\u{7} melted\r\u{9b}31m \u{202e}gpj.exe\u{7f}";

    #[test]
    fn controls_and_bidi_overrides_show_as_escapes() {
        let shown = line(HOSTILE);
        assert_eq!(
            shown,
            "GPU \\u{1b}[2J\\u{1b}]0;pwned\\u{7} melted\\r\\u{9b}31m \\u{202e}gpj.exe\\u{7f}"
        );
        assert!(!shown.chars().any(is_unsafe));
        assert_eq!(line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(lines("a\nb\u{1b}"), "a\nb\\u{1b}");
    }

    #[test]
    fn safe_text_is_borrowed_and_escaping_twice_changes_nothing() {
        assert!(matches!(
            line("task 4f2 failed: 日本語 ok"),
            Cow::Borrowed(_)
        ));
        let once = line(HOSTILE).into_owned();
        assert_eq!(line(&once), once);
    }

    #[test]
    fn json_stays_valid_and_means_the_same() {
        let document = serde_json::json!({ "error": { "message": HOSTILE } });
        let text = json(&document);
        assert!(!text.chars().any(is_unsafe), "{text}");
        let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, document);
    }
}
