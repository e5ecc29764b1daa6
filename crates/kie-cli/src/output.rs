//! What a successful command prints on stdout: words, or one JSON document with `--json`.

use serde_json::Value;

use crate::escape;

/// A command's result, in both forms.
#[derive(Debug)]
pub struct Output {
    /// The `--json` document.
    pub json: Value,
    /// The words.
    pub text: String,
}

impl Output {
    /// A result with both forms.
    pub fn new(json: Value, text: impl Into<String>) -> Self {
        Self {
            json,
            text: text.into(),
        }
    }

    /// Prints the form the user asked for, with the control characters of text from
    /// kie.ai escaped (JSON stays valid JSON).
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", escape::json(&self.json));
        } else if !self.text.is_empty() {
            println!("{}", escape::lines(self.text.trim_end()));
        }
    }
}
