//! `kie models`: what this build can generate with, and what each model accepts.

use std::fmt::Write as _;

use kie::{ModelInfo, Param};
use serde_json::json;

use crate::output::Output;

/// Every enabled model with its parameters, allowed values, defaults and limits.
pub fn models() -> Output {
    let infos = kie::registry::infos();
    let mut text = String::new();
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        describe(&mut text, info);
    }
    Output::new(json!({ "models": infos }), text)
}

fn describe(text: &mut String, info: &ModelInfo) {
    let _ = writeln!(text, "{}  ({}, {})", info.id, info.provider, info.modality);
    let _ = writeln!(text, "  {}", info.summary);
    let width = info.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for param in info.params {
        let _ = writeln!(text, "  {:width$}  {}", param.name, rule(param));
    }
}

/// One parameter in words: its type and limits, whether it is required, its default.
fn rule(param: &Param) -> String {
    let mut rule = param.kind.to_string();
    if param.required {
        rule.push_str("; required");
    }
    if let Some(default) = param.default {
        let _ = write!(rule, "; default {default}");
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_and_parameter_is_listed_with_its_limits() {
        let output = models();
        for info in kie::registry::infos() {
            assert!(output.text.contains(info.id), "{}", info.id);
            for param in info.params {
                assert!(output.text.contains(param.name), "{}", param.name);
            }
        }
        assert!(output.text.contains(r#"one of "5", "10"; default "5""#));
        assert!(
            output
                .text
                .contains("number from 0 to 1, in steps of 0.1; default 0.5")
        );
    }
}
