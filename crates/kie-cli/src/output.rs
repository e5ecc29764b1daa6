//! What a successful command prints on stdout: words, or one JSON document with `--json`.

use serde_json::Value;

use crate::{console, escape};

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
    ///
    /// # Errors
    ///
    /// Writing to stdout failed (its reader is gone).
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        if json {
            console::out(&escape::json(&self.json))
        } else if !self.text.is_empty() {
            console::out(&escape::lines(self.text.trim_end()))
        } else {
            Ok(())
        }
    }
}
