//! Keeping secrets out of the text an error keeps.
//!
//! Errors quote what a server sent (a body excerpt, a message), and a server can send
//! back what it was given: a proxy that echoes the request puts `Authorization: Bearer
//! <key>` into its error page; one that echoes a createTask body quotes the callback
//! URL with its token. So every body or message an error keeps passes through
//! [`Redactor::redact`] first, which blanks the client's key and every other secret it
//! knows (in the forms an echo may take: as is, percent-encoded, JSON-escaped), and any
//! credential that announces itself (`Bearer ...`, `Basic ...`, an `Authorization`
//! value).

use std::borrow::Cow;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: blanking every "a" of a text would
/// hide the text, not protect a key (no real key or token is this short).
const SHORTEST_SECRET: usize = 6;

/// The secrets of one client (its key, and any the caller adds), and the rules that
/// find credentials by their shape.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<SecretString>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Adds a secret, with the forms an echo may give it.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() < SHORTEST_SECRET {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        let percent: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"');
        for form in [percent.as_str(), json, &percent.replace('+', "%20")] {
            if !forms.iter().any(|f| f == form) {
                forms.push(form.to_owned());
            }
        }
        self.secrets
            .extend(forms.into_iter().map(SecretString::from));
    }

    /// A copy that also knows `secrets` (the query of a callback URL, say), for one call.
    pub(crate) fn with(&self, secrets: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut more = self.clone();
        for secret in secrets {
            more.add(secret.as_ref());
        }
        more
    }

    /// `text` without any secret this redactor knows or any credential it recognises.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            let secret = secret.expose_secret();
            if out.contains(secret) {
                out = Cow::Owned(out.replace(secret, REDACTED));
            }
        }
        match credentials(&out) {
            Some(blanked) => Cow::Owned(blanked),
            None => out,
        }
    }
}

/// Words after which the next token is a credential, compared without case.
const SCHEMES: [&str; 3] = ["bearer", "basic", "token"];

/// `text` with the token after each credential scheme (`Bearer xyz`) and the value of
/// each `Authorization` field blanked; `None` when there is none.
fn credentials(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for scheme in SCHEMES {
        for (at, _) in lower.match_indices(scheme) {
            let before = lower[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // inside a word: "unbearer", "tokens_left"
            }
            let after = at + scheme.len();
            let gap = whitespace(&text[after..]);
            if gap == 0 {
                continue; // "bearer" alone, or "tokenize"
            }
            let start = after + gap;
            let end = start + token_len(&text[start..]);
            if end > start && &text[start..end] != REDACTED {
                spans.push((start, end));
            }
        }
    }
    // `Authorization: value`, `"authorization":"value"`, `authorization=value`.
    for (at, _) in lower.match_indices("authorization") {
        let mut rest = at + "authorization".len();
        rest += text[rest..]
            .find(|c: char| !matches!(c, '"' | '\'' | ' ' | '\t'))
            .unwrap_or(text.len() - rest);
        if !text[rest..].starts_with([':', '=']) {
            continue;
        }
        rest += 1;
        rest += text[rest..]
            .find(|c: char| !matches!(c, '"' | '\'' | ' ' | '\t'))
            .unwrap_or(text.len() - rest);
        let end = rest
            + text[rest..]
                .find(['"', '\'', '\r', '\n', ',', ';', '&', '}', '<'])
                .unwrap_or(text.len() - rest);
        if end > rest && &text[rest..end] != REDACTED {
            spans.push((rest, end));
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        if start < copied {
            copied = copied.max(end);
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Bytes of spaces and tabs at the start of `text`.
fn whitespace(text: &str) -> usize {
    text.len() - text.trim_start_matches([' ', '\t']).len()
}

/// Bytes of the token at the start of `text`: everything up to a space, a quote or a
/// delimiter of the text around it.
fn token_len(text: &str) -> usize {
    text.find(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '<' | '>' | '&' | '\\')
    })
    .unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-CANARY+key/7f3a";

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add(KEY);
        r
    }

    #[test]
    fn the_key_is_blanked_in_every_form_an_echo_gives_it() {
        let r = redactor();
        #[rustfmt::skip]
        let table = [
            (format!("key={KEY}"), "key=[redacted]".to_owned()),
            ("key=sk-CANARY%2Bkey%2F7f3a".to_owned(), "key=[redacted]".to_owned()),
            (format!("{{\"k\":{}}}", serde_json::to_string(KEY).unwrap()), "{\"k\":\"[redacted]\"}".to_owned()),
            ("nothing here".to_owned(), "nothing here".to_owned()),
        ];
        for (text, expected) in table {
            assert_eq!(r.redact(&text), expected, "{text}");
        }
    }

    #[test]
    fn credentials_are_blanked_by_their_shape() {
        let r = Redactor::default();
        #[rustfmt::skip]
        let table = [
            ("GET / HTTP/1.1\r\nAuthorization: Bearer abc.def-123\r\nHost: x", "GET / HTTP/1.1\r\nAuthorization: [redacted]\r\nHost: x"),
            ("{\"authorization\":\"Bearer abc\"}", "{\"authorization\":\"[redacted]\"}"),
            ("echo: bearer    t0k3n, next", "echo: bearer    [redacted], next"),
            ("Authorization=Basic dXNlcjpwYXNz&x=1", "Authorization=[redacted]&x=1"),
            ("the tokens left: 5; unbearable", "the tokens left: 5; unbearable"),
            ("Bearer", "Bearer"),
        ];
        for (text, expected) in table {
            assert_eq!(r.redact(text), expected, "{text}");
        }
    }

    #[test]
    fn short_secrets_are_not_searched_for_and_debug_shows_none() {
        let mut r = Redactor::default();
        r.add("abc");
        assert_eq!(r.redact("abc"), "abc");
        assert!(!format!("{:?}", redactor()).contains("CANARY"));
    }

    #[test]
    fn one_call_can_add_its_own_secrets() {
        let r = redactor().with(["token=s3cr3t-value"]);
        assert_eq!(
            r.redact("callBackUrl https://me/cb?token=s3cr3t-value"),
            "callBackUrl https://me/cb?[redacted]"
        );
    }
}
