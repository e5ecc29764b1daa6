//! Input validation errors: which field broke which rule, and what is allowed.
//!
//! Validation runs before anything is sent, so a bad request costs neither money nor a
//! round trip. The generated per-model `validate()` methods and the uniform-request
//! mappings both report through [`Violations`], so every model words its errors alike.

use std::fmt;

/// Every rule a request broke. Never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    violations: Vec<FieldError>,
}

impl ValidationError {
    /// An error for one field.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            violations: vec![FieldError {
                field: field.into(),
                problem,
            }],
        }
    }

    /// Each broken rule, in the order the checks ran.
    pub fn violations(&self) -> &[FieldError] {
        &self.violations
    }

    /// Both errors' violations, this one's first.
    #[must_use]
    pub fn merged(mut self, other: ValidationError) -> Self {
        self.violations.extend(other.violations);
        self
    }

    /// Whether some violation concerns `field`.
    pub fn concerns(&self, field: &str) -> bool {
        self.violations.iter().any(|v| v.field == field)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// One field and the rule it broke.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FieldError {
    /// The field's name as kie.ai spells it (`prompt`, `aspect_ratio`, `callBackUrl`).
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl FieldError {
    /// `field` broke a rule: `problem`.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.problem)
    }
}

/// The rule a field broke, with the limits that apply.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is missing.
    Required,
    /// Text longer than allowed, counted in characters (not bytes).
    TooLong {
        /// Most characters allowed.
        max: usize,
        /// Characters given.
        actual: usize,
    },
    /// Text shorter than allowed, counted in characters.
    TooShort {
        /// Fewest characters allowed.
        min: usize,
        /// Characters given.
        actual: usize,
    },
    /// A file larger than allowed.
    TooLarge {
        /// Most bytes allowed.
        max_bytes: u64,
        /// Bytes given.
        actual: u64,
    },
    /// A list with more items than allowed.
    TooManyItems {
        /// Most items allowed.
        max: usize,
        /// Items given.
        actual: usize,
    },
    /// A list with fewer items than required.
    TooFewItems {
        /// Fewest items allowed.
        min: usize,
        /// Items given.
        actual: usize,
    },
    /// A number outside its range.
    OutOfRange {
        /// The number given.
        value: f64,
        /// Smallest allowed, if bounded below.
        min: Option<f64>,
        /// Largest allowed, if bounded above.
        max: Option<f64>,
    },
    /// A number off its step (for example 0.55 where the step is 0.1).
    NotMultipleOf {
        /// The number given.
        value: f64,
        /// The step it must be a multiple of.
        step: f64,
    },
    /// A value outside the allowed set.
    NotAllowed {
        /// The value given.
        value: String,
        /// Every allowed value.
        allowed: Vec<String>,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// What the field takes, such as "a string" or "a boolean".
        expected: String,
    },
    /// Not an absolute http(s) URL.
    InvalidUrl {
        /// The value given.
        value: String,
    },
    /// The same parameter was given twice, by two routes.
    Conflict {
        /// The other route, such as "the request's `duration_secs`".
        with: String,
    },
    /// The model has no such parameter, or cannot honour this value.
    Unsupported {
        /// The model's id.
        model: String,
        /// What the model takes instead, when that helps.
        hint: Option<String>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => f.write_str("is required"),
            Problem::TooLong { max, actual } => write!(
                f,
                "is {actual} characters long; at most {max} characters are allowed"
            ),
            Problem::TooShort { min, actual } => write!(
                f,
                "is {actual} characters long; at least {min} characters are required"
            ),
            Problem::TooLarge { max_bytes, actual } => {
                write!(
                    f,
                    "is {actual} bytes; at most {max_bytes} bytes are allowed"
                )
            }
            Problem::TooManyItems { max, actual } => {
                write!(f, "has {actual} items; at most {max} are allowed")
            }
            Problem::TooFewItems { min, actual } => {
                write!(f, "has {actual} items; at least {min} are required")
            }
            Problem::OutOfRange { value, min, max } => match (min, max) {
                (Some(lo), Some(hi)) => write!(f, "is {value}; allowed: {lo} to {hi}"),
                (Some(lo), None) => write!(f, "is {value}; allowed: at least {lo}"),
                (None, Some(hi)) => write!(f, "is {value}; allowed: at most {hi}"),
                (None, None) => write!(f, "is {value}, which is out of range"),
            },
            Problem::NotMultipleOf { value, step } => {
                write!(f, "is {value}; it must be a multiple of {step}")
            }
            Problem::NotAllowed { value, allowed } => {
                write!(f, "is {value:?}; allowed: {}", quoted_list(allowed))
            }
            Problem::WrongType { expected } => write!(f, "must be {expected}"),
            Problem::InvalidUrl { value } => {
                write!(f, "is {value:?}, which is not an absolute http(s) URL")
            }
            Problem::Conflict { with } => write!(f, "is also set by {with}; give it once"),
            Problem::Unsupported { model, hint } => {
                write!(f, "is not supported by {model}")?;
                match hint {
                    Some(hint) => write!(f, " ({hint})"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `value` passes [`Violations::url`].
///
/// A WHATWG parser alone (the `url` crate, browsers) accepts and quietly repairs much of
/// what the documents refuse: surrounding spaces, tabs and newlines, backslashes,
/// `https:///a.png`, `http:example.com`, raw Unicode. Each part is therefore checked
/// against RFC 3986's characters first; the WHATWG parse then refuses what RFC 3986
/// alone would let through (a port above 65535, a malformed IPv6 address).
fn is_http_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (tail, fragment) = tail.split_once('#').unwrap_or((tail, ""));
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let (userinfo, host_port) = authority.split_once('@').unwrap_or(("", authority));
    let (host_ok, port) = match host_port.strip_prefix('[') {
        // An IP literal: its syntax is left to the WHATWG parse below.
        Some(literal) => match literal.split_once(']').map(|(_, after)| after) {
            Some("") => (true, ""),
            Some(after) => match after.strip_prefix(':') {
                Some(port) => (true, port),
                None => return false,
            },
            None => return false,
        },
        None => {
            let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
            (!host.is_empty() && rfc3986(host, b""), port)
        }
    };
    host_ok
        && port.bytes().all(|b| b.is_ascii_digit())
        && rfc3986(userinfo, b":")
        && rfc3986(path, b":@/")
        && rfc3986(query, b":@/?")
        && rfc3986(fragment, b":@/?")
        && url::Url::parse(value).is_ok_and(|u| u.host().is_some())
}

/// Whether `text` holds only RFC 3986's unreserved characters, sub-delimiters,
/// percent-encodings and the `extra` characters its part allows.
fn rfc3986(text: &str, extra: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let ok = match b {
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                i += 2;
                true
            }
            b'-' | b'.' | b'_' | b'~' => true,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => true,
            _ => b.is_ascii_alphanumeric() || extra.contains(&b),
        };
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Collects the rules a value breaks, then reports them all at once.
///
/// Reporting every violation (not just the first) saves a user one fix-and-retry
/// round per field.
#[derive(Debug, Default)]
pub struct Violations {
    found: Vec<FieldError>,
}

impl Violations {
    /// Records a broken rule.
    pub fn push(&mut self, field: impl Into<String>, problem: Problem) {
        self.found.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    /// Checks a length limit, in characters: the prompts are often Chinese, and kie.ai
    /// counts characters, not UTF-8 bytes.
    pub fn max_chars(&mut self, field: &str, value: &str, max: usize) {
        let actual = value.chars().count();
        if actual > max {
            self.push(field, Problem::TooLong { max, actual });
        }
    }

    /// Checks a lower length limit, in characters.
    pub fn min_chars(&mut self, field: &str, value: &str, min: usize) {
        let actual = value.chars().count();
        if actual < min {
            self.push(field, Problem::TooShort { min, actual });
        }
    }

    /// Checks the number of items in a list.
    pub fn max_items(&mut self, field: &str, actual: usize, max: usize) {
        if actual > max {
            self.push(field, Problem::TooManyItems { max, actual });
        }
    }

    /// Checks that a list has at least `min` items.
    pub fn min_items(&mut self, field: &str, actual: usize, min: usize) {
        if actual < min {
            self.push(field, Problem::TooFewItems { min, actual });
        }
    }

    /// Checks an inclusive range.
    pub fn range(&mut self, field: &str, value: f64, min: Option<f64>, max: Option<f64>) {
        let below = min.is_some_and(|lo| value < lo);
        let above = max.is_some_and(|hi| value > hi);
        if below || above || value.is_nan() {
            self.push(field, Problem::OutOfRange { value, min, max });
        }
    }

    /// Checks that `value` is a whole multiple of `step`.
    ///
    /// The quotient is compared with its nearest integer within a relative tolerance, so
    /// that 0.3 with a step of 0.1 passes even though `0.3 / 0.1` is 2.9999999999999996
    /// in binary floating point.
    pub fn multiple_of(&mut self, field: &str, value: f64, step: f64) {
        let quotient = value / step;
        if (quotient - quotient.round()).abs() > 1e-9 * quotient.abs().max(1.0) {
            self.push(field, Problem::NotMultipleOf { value, step });
        }
    }

    /// Checks that `value` is an absolute `http` or `https` URL as kie.ai's documents
    /// state the rule (`format: uri` with the pattern `^https?://[^\s/?#]+([/?#]\S*)?$`):
    /// a lower-case `http://` or `https://`, a host, and RFC 3986 syntax throughout. So
    /// ASCII only: spaces, non-ASCII text and characters such as `<>"{}|\^` must be
    /// percent-encoded (`%20`, `%E7%8B%90`), and a `%` is always followed by two hex
    /// digits.
    pub fn url(&mut self, field: &str, value: &str) {
        if !is_http_url(value) {
            self.push(
                field,
                Problem::InvalidUrl {
                    value: value.to_owned(),
                },
            );
        }
    }

    /// `Ok` when no rule was broken.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] listing every violation recorded.
    pub fn finish(self) -> Result<(), ValidationError> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                violations: self.found,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut v = Violations::default();
        let chinese = "狐".repeat(5);
        assert_eq!(chinese.len(), 15);
        v.max_chars("prompt", &chinese, 5);
        assert!(v.finish().is_ok());

        let mut v = Violations::default();
        v.max_chars("prompt", &"狐".repeat(6), 5);
        let err = v.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`prompt` is 6 characters long; at most 5 characters are allowed"
        );
    }

    #[test]
    fn every_violation_is_reported() {
        let mut v = Violations::default();
        v.range("cfg_scale", 1.5, Some(0.0), Some(1.0));
        v.url("image_url", "not a url");
        v.push(
            "aspect_ratio",
            Problem::NotAllowed {
                value: "2:1".into(),
                allowed: vec!["16:9".into(), "9:16".into()],
            },
        );
        let err = v.finish().unwrap_err();
        assert_eq!(err.violations().len(), 3);
        assert!(err.concerns("image_url"));
        assert_eq!(
            err.to_string(),
            "`cfg_scale` is 1.5; allowed: 0 to 1; \
             `image_url` is \"not a url\", which is not an absolute http(s) URL; \
             `aspect_ratio` is \"2:1\"; allowed: \"16:9\", \"9:16\""
        );
    }

    #[test]
    fn steps_tolerate_binary_floating_point() {
        for ok in [0.0, 0.1, 0.3, 0.7, 1.0] {
            let mut v = Violations::default();
            v.multiple_of("cfg_scale", ok, 0.1);
            assert!(v.finish().is_ok(), "{ok} is a multiple of 0.1");
        }
        let mut v = Violations::default();
        v.multiple_of("cfg_scale", 0.55, 0.1);
        assert!(v.finish().is_err());
    }

    #[test]
    fn ranges_reject_nan() {
        let mut v = Violations::default();
        v.range("seed", f64::NAN, Some(-1.0), None);
        assert!(v.finish().is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        for bad in ["", "ftp://x.y/z", "/relative/path", "https://"] {
            let mut v = Violations::default();
            v.url("image_url", bad);
            assert!(v.finish().is_err(), "{bad:?} must be refused");
        }
        let mut v = Violations::default();
        v.url("image_url", "https://example.com/a.png");
        assert!(v.finish().is_ok());
    }

    /// What a WHATWG parser accepts (and repairs) but the specs' `format: uri` and
    /// pattern refuse, found by the bad-input corpus (crates/kie/tests): each was sent
    /// and answered 422 before this check.
    #[test]
    fn urls_follow_rfc_3986_not_a_forgiving_parser() {
        for bad in [
            " https://example.com/a.png",
            "https://example.com/a.png ",
            "https://example.com/a.png\n",
            "https://exa\tmple.com/a.png",
            "https://example.com/a b.png",
            "https:///a.png",
            "http:example.com/a.png",
            "http:/example.com/a.png",
            "https:\\\\example.com\\a.png",
            "HTTPS://EXAMPLE.COM/A.PNG",
            "https://example.com/狐.png",
            "https://例子.测试/a.png",
            "https://\u{200b}example.com/a.png",
            "https://example.com/a.png\u{0}",
            "https://example.com/100%.png",
            "https://example.com/a%zz.png",
            "https://example.com/a.png?size=[1]",
            "https://user@name@example.com/a.png",
            "https://user[1]@example.com/a.png",
            "https://example.com/a.png#one#two",
            "http://[::1/a.png",
            "https://example.com/<a>.png",
            "https://example.com/a\"b.png",
            "https://example.com/a{b}|^`.png",
            "https://example.com:99999/a.png",
            "https://example.com:8o/a.png",
            "http://@/a.png",
        ] {
            assert!(!is_http_url(bad), "{bad:?} must be refused");
        }
        for good in [
            "https://example.com",
            "https://example.com?x=1",
            "http://localhost:8080/upload?id=1&next=/a?b#top/?",
            "https://file.aiquickdraw.com/custom-page/akr/section-images/1762340693669m6sey187.webp",
            "https://user:pa:ss@example.com/a%20b.png",
            "https://example.com/%E7%8B%90.png",
            "https://xn--fsqu00a.xn--0zwm56d/a.png",
            "http://[::1]:8080/a.png",
            "https://example.com:/a(1)!$&'*+,;=:@~.png",
        ] {
            assert!(is_http_url(good), "{good:?} must be accepted");
        }
    }
}
