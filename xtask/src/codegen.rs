//! `cargo xtask codegen [--check]`: Rust from `spec/`.
//!
//! For each model document the generator writes one module into its provider crate
//! (`crates/<crate>/src/generated/<module>.rs`): the typed input with its builder,
//! enums, `validate()`, `from_json`, the model's `ModelInfo`, its uniform-request mapping
//! and its `VideoModel` implementation. Per crate it writes `generated/mod.rs`, and for
//! the facade `crates/kie/src/generated/mod.rs`, the catalog of every model and the
//! feature that enables it. Everything under `crates/*/src/generated/` and in
//! [`EMULATOR_SPECS`] belongs to the generator: `--check` also reports files there that
//! no spec produces any more.
//!
//! Output goes through `prettyplease` (turning `#[doc]` attributes into `///` comments)
//! and then `rustfmt`, so generated files pass `cargo fmt --check` like any other, and
//! the same specs always give the same bytes.
//!
//! The emulator validates requests against the documents themselves, and a published
//! crate cannot reach outside its own directory, so the generator also copies every
//! `spec/*.json`, byte for byte, into [`EMULATOR_SPECS`], which the emulator's build
//! script embeds. `--check` compares those copies like any generated file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::spec::{self, Field, Kind, ModelSpec, Target};

/// The facade crate, which gets the catalog of every model.
pub const FACADE: &str = "kie";

/// Where the emulator's copies of the spec documents live, relative to the workspace root.
pub const EMULATOR_SPECS: &str = "crates/kie-emulator/spec";

/// Names the generated input types use for their own methods; a field may not take one.
const RESERVED: [&str; 4] = ["new", "from_json", "validate", "model_id"];

/// A generated file: its path relative to the workspace root, and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Relative path with `/` separators.
    pub path: String,
    /// The complete file.
    pub contents: String,
}

/// Regenerates everything from `<root>/spec` and writes what changed (or, with `check`,
/// only compares).
///
/// Returns the paths written or, with `check`, found stale.
///
/// # Errors
///
/// A spec the generator cannot honour, rustfmt failing, an I/O error, or, with `check`,
/// the list of stale files.
pub fn run(root: &Path, check: bool) -> Result<Vec<String>, String> {
    let outputs = generate(root)?;
    let mut changed = Vec::new();
    let expected: BTreeMap<&str, &str> = outputs
        .iter()
        .map(|o| (o.path.as_str(), o.contents.as_str()))
        .collect();
    for (path, contents) in &expected {
        let full = root.join(path);
        let current = fs::read_to_string(&full).ok();
        if current.as_deref() != Some(*contents) {
            changed.push((*path).to_owned());
            if !check {
                if let Some(dir) = full.parent() {
                    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                fs::write(&full, contents).map_err(|e| format!("{}: {e}", full.display()))?;
            }
        }
    }
    for orphan in generated_files(root)? {
        if !expected.contains_key(orphan.as_str()) {
            if !check {
                fs::remove_file(root.join(&orphan)).map_err(|e| format!("{orphan}: {e}"))?;
            }
            changed.push(orphan);
        }
    }
    changed.sort();
    if check && !changed.is_empty() {
        let list: Vec<String> = changed.iter().map(|p| format!("  {p}")).collect();
        return Err(format!(
            "generated code is stale; run `cargo xtask codegen`:\n{}",
            list.join("\n")
        ));
    }
    Ok(changed)
}

/// Every file currently under `crates/*/src/generated/` and in [`EMULATOR_SPECS`].
fn generated_files(root: &Path) -> Result<Vec<String>, String> {
    let mut dirs = vec![EMULATOR_SPECS.to_owned()];
    if let Ok(crates) = fs::read_dir(root.join("crates")) {
        for entry in crates.filter_map(Result::ok) {
            let krate = entry.file_name().to_string_lossy().into_owned();
            dirs.push(format!("crates/{krate}/src/generated"));
        }
    }
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(files) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for file in files.filter_map(Result::ok) {
            let name = file.file_name().to_string_lossy().into_owned();
            found.push(format!("{dir}/{name}"));
        }
    }
    found.sort();
    Ok(found)
}

/// Every generated file, in memory.
///
/// # Errors
///
/// A spec the generator cannot honour, or rustfmt failing.
pub fn generate(root: &Path) -> Result<Vec<Output>, String> {
    let documents = spec::documents(root)?;
    let models = spec::read_models(&documents)?;
    let mut outputs: Vec<Output> = documents
        .into_iter()
        .map(|document| Output {
            path: format!("{EMULATOR_SPECS}/{}", document.name),
            contents: document.text,
        })
        .collect();
    let mut by_crate: BTreeMap<&str, Vec<&ModelSpec>> = BTreeMap::new();
    for model in &models {
        by_crate.entry(&model.krate).or_default().push(model);
        let tokens = model_module(model)?;
        outputs.push(Output {
            path: format!("crates/{}/src/generated/{}.rs", model.krate, model.module),
            contents: render(root, &[model.file.as_str()], tokens)?,
        });
    }
    for (krate, models) in &by_crate {
        let files: Vec<&str> = models.iter().map(|m| m.file.as_str()).collect();
        outputs.push(Output {
            path: format!("crates/{krate}/src/generated/mod.rs"),
            contents: render(root, &files, crate_module(models))?,
        });
    }
    let files: Vec<&str> = models.iter().map(|m| m.file.as_str()).collect();
    outputs.push(Output {
        path: format!("crates/{FACADE}/src/generated/mod.rs"),
        contents: render(root, &files, catalog(&by_crate))?,
    });
    Ok(outputs)
}

fn render(root: &Path, sources: &[&str], tokens: TokenStream) -> Result<String, String> {
    // Re-lexing the text splits negative literals (`-1`) into the two tokens syn expects.
    let file = syn::parse_file(&tokens.to_string())
        .map_err(|e| format!("generated code does not parse: {e}"))?;
    let mut header = String::from("// @generated by `cargo xtask codegen` from ");
    header.push_str(&sources.join(", "));
    header.push_str(".\n// Do not edit: change the spec and run `cargo xtask codegen`.\n\n");
    rustfmt(
        root,
        &(header + &space_items(&prettyplease::unparse(&file))),
    )
}

/// Puts a blank line between consecutive items (prettyplease writes none), which
/// rustfmt then keeps: generated code is read in reviews and docs, so it should look
/// written.
fn space_items(code: &str) -> String {
    const STARTS: [&str; 12] = [
        "///", "#[", "pub ", "impl", "fn ", "use ", "const ", "static ", "mod ", "enum ",
        "struct ", "#![",
    ];
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let mut prev: Option<&str> = None;
    for line in code.lines() {
        if let Some(p) = prev {
            let (pt, lt) = (p.trim_start(), line.trim_start());
            let ends_item = pt == "}" || pt == "};" || (pt.ends_with(';') && !pt.starts_with("//"));
            let after_module_doc =
                pt.starts_with("//!") && !lt.starts_with("//!") && !lt.is_empty();
            // `use` lines stay together so that rustfmt sorts them as one group.
            let starts_item = STARTS.iter().any(|s| lt.starts_with(s)) && !lt.starts_with("use ");
            if after_module_doc || (ends_item && starts_item && indent(p) == indent(line)) {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

fn rustfmt(root: &Path, code: &str) -> Result<String, String> {
    let mut command = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()));
    command.args(["--edition", "2024"]);
    let config = root.join("rustfmt.toml");
    if config.exists() {
        command.arg("--config-path").arg(config);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt has no stdin")?
        .write_all(code.as_bytes())
        .map_err(|e| format!("cannot feed rustfmt: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt wrote non-UTF-8: {e}"))
}

fn docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

fn inner_docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#![doc = #line])
    });
    quote!(#(#lines)*)
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Names of the standard library a generated enum must not take: `use`d beside it (a
/// `Duration` for a field `duration` beside `std::time::Duration`), one would shadow the
/// other in the user's code.
const STD_NAMES: [&str; 10] = [
    "Box", "Default", "Duration", "Error", "Instant", "Option", "Ordering", "Path", "Result",
    "String",
];

/// The Rust name of a choice field's enum: the field's name in camel case, prefixed with
/// `Video` where it would be a standard library name (`duration` → `VideoDuration`).
fn enum_ident(field: &Field) -> proc_macro2::Ident {
    let name = camel(&field.name);
    if STD_NAMES.contains(&name.as_str()) {
        format_ident!("Video{}", name)
    } else {
        format_ident!("{}", name)
    }
}

fn crate_ident(krate: &str) -> proc_macro2::Ident {
    format_ident!("{}", krate.replace('-', "_"))
}

fn f64_lit(v: f64) -> Literal {
    Literal::f64_unsuffixed(v)
}

fn option<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

/// The Rust type of a field's value (without `Option`).
fn value_type(field: &Field) -> TokenStream {
    match &field.kind {
        Kind::Text { .. } | Kind::Url { .. } => quote!(String),
        Kind::Choice { .. } => {
            let ty = enum_ident(field);
            quote!(#ty)
        }
        Kind::Integer { .. } => quote!(i64),
        Kind::Number { .. } => quote!(f64),
        Kind::Boolean => quote!(bool),
        Kind::TextList { .. } | Kind::UrlList { .. } => quote!(Vec<String>),
        Kind::Objects { .. } => {
            let item = item_ident(field);
            quote!(Vec<#item>)
        }
    }
}

/// The Rust name of the item type of a list of objects: `multi_prompt` → `MultiPromptItem`.
fn item_ident(field: &Field) -> proc_macro2::Ident {
    format_ident!("{}Item", camel(&snake(&field.name)))
}

/// A field name as a Rust field: kie.ai's name, or its snake case (`Scene` → `scene`).
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn field_ident(field: &Field) -> proc_macro2::Ident {
    format_ident!("{}", snake(&field.name))
}

/// The type a constructor or setter takes, and how its argument `var` becomes the
/// field's value.
fn setter_arg(field: &Field, var: &proc_macro2::Ident) -> (TokenStream, TokenStream) {
    match &field.kind {
        Kind::Text { .. } | Kind::Url { .. } => (quote!(impl Into<String>), quote!(#var.into())),
        Kind::Objects { .. } => {
            let item = item_ident(field);
            (
                quote!(impl IntoIterator<Item = #item>),
                quote!(#var.into_iter().collect()),
            )
        }
        Kind::TextList { .. } | Kind::UrlList { .. } => (
            quote!(impl IntoIterator<Item = impl Into<String>>),
            quote!(#var.into_iter().map(Into::into).collect()),
        ),
        _ => (value_type(field), quote!(#var)),
    }
}

/// The limits of a field in words, for its doc comment.
fn limits_text(field: &Field) -> Vec<String> {
    let mut out = Vec::new();
    match &field.kind {
        Kind::Text {
            min_chars,
            max_chars,
        } => {
            if let Some(text) = count_text(*min_chars, *max_chars, "characters") {
                out.push(format!("{text} (counted as characters, not bytes)."));
            }
        }
        Kind::Boolean => {}
        Kind::Url { max_chars } => {
            out.push("An absolute http(s) URL.".into());
            if let Some(text) = count_text(None, *max_chars, "characters") {
                out.push(format!("{text}."));
            }
        }
        Kind::Choice { values, .. } => {
            let list: Vec<String> = values.iter().map(|v| format!("`{v:?}`")).collect();
            out.push(format!("One of {}.", list.join(", ")));
        }
        Kind::Integer { min, max } => match (min, max) {
            (Some(lo), Some(hi)) => out.push(format!("A whole number from {lo} to {hi}.")),
            (Some(lo), None) => out.push(format!("A whole number, at least {lo}.")),
            (None, Some(hi)) => out.push(format!("A whole number, at most {hi}.")),
            (None, None) => out.push("A whole number.".into()),
        },
        Kind::Number { min, max, step } => {
            let mut text = match (min, max) {
                (Some(lo), Some(hi)) => format!("From {lo} to {hi}"),
                (Some(lo), None) => format!("At least {lo}"),
                (None, Some(hi)) => format!("At most {hi}"),
                (None, None) => "Any number".into(),
            };
            if let Some(step) = step {
                text.push_str(&format!(", in steps of {step}"));
            }
            text.push('.');
            out.push(text);
        }
        Kind::TextList {
            min_items,
            max_items,
        }
        | Kind::Objects {
            min_items,
            max_items,
            ..
        } => {
            if let Some(text) = count_text(*min_items, *max_items, "items") {
                out.push(format!("{text}."));
            }
        }
        Kind::UrlList {
            min_items,
            max_items,
        } => {
            out.push("Absolute http(s) URLs.".into());
            if let Some(text) = count_text(*min_items, *max_items, "items") {
                out.push(format!("{text}."));
            }
        }
    }
    if let Some(file) = &field.file {
        let types: Vec<String> = file.types.iter().map(|t| format!("`{t}`")).collect();
        let size = file
            .max_bytes
            .map_or_else(String::new, |b| format!(", at most {b} bytes"));
        out.push(format!(
            "Files: {}{size} (checked by their bytes when `VideoModel::submit` uploads a local file).",
            types.join(", ")
        ));
    }
    if field.required {
        out.push("Required.".into());
    } else if let Some(default) = &field.default {
        out.push(format!(
            "Optional; kie.ai's default is `{default}`. `None` leaves it out of the request."
        ));
    } else {
        out.push("Optional. `None` leaves it out of the request.".into());
    }
    out
}

/// A count limit in words: "From 1 to 9 items", "At least 3 characters".
fn count_text(min: Option<u64>, max: Option<u64>, unit: &str) -> Option<String> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo == hi => Some(format!("Exactly {lo} {unit}")),
        (Some(lo), Some(hi)) => Some(format!("From {lo} to {hi} {unit}")),
        (Some(lo), None) => Some(format!("At least {lo} {unit}")),
        (None, Some(hi)) => Some(format!("At most {hi} {unit}")),
        (None, None) => None,
    }
}

fn field_doc(field: &Field) -> String {
    format!("{}\n\n{}", field.description, limits_text(field).join(" "))
}

fn param_kind(field: &Field) -> Result<TokenStream, String> {
    let count = |n: Option<u64>| -> Result<TokenStream, String> {
        Ok(option(
            n.map(|m| u32::try_from(m).map(Literal::u32_unsuffixed))
                .transpose()
                .map_err(|_| format!("input.{}: a limit does not fit in u32", field.name))?,
        ))
    };
    Ok(match &field.kind {
        Kind::Text {
            min_chars,
            max_chars,
        } => {
            let (min, max) = (count(*min_chars)?, count(*max_chars)?);
            quote!(ParamKind::Text { min_chars: #min, max_chars: #max })
        }
        Kind::Url { max_chars } => {
            let max = count(*max_chars)?;
            quote!(ParamKind::Url { max_chars: #max })
        }
        Kind::Choice { values, .. } => quote!(ParamKind::Choice { values: &[#(#values),*] }),
        Kind::Integer { min, max } => {
            let min = option(min.map(Literal::i64_unsuffixed));
            let max = option(max.map(Literal::i64_unsuffixed));
            quote!(ParamKind::Integer { min: #min, max: #max })
        }
        Kind::Number { min, max, step } => {
            let min = option(min.map(f64_lit));
            let max = option(max.map(f64_lit));
            let step = option(step.map(f64_lit));
            quote!(ParamKind::Number { min: #min, max: #max, step: #step })
        }
        Kind::Boolean => quote!(ParamKind::Boolean),
        Kind::TextList {
            min_items,
            max_items,
        } => {
            let (min, max) = (count(*min_items)?, count(*max_items)?);
            quote!(ParamKind::TextList { min_items: #min, max_items: #max })
        }
        Kind::UrlList {
            min_items,
            max_items,
        } => {
            let (min, max) = (count(*min_items)?, count(*max_items)?);
            quote!(ParamKind::UrlList { min_items: #min, max_items: #max })
        }
        Kind::Objects {
            fields,
            min_items,
            max_items,
        } => {
            let (min, max) = (count(*min_items)?, count(*max_items)?);
            let params = fields.iter().map(param).collect::<Result<Vec<_>, _>>()?;
            quote!(ParamKind::ObjectList { fields: &[#(#params),*], min_items: #min, max_items: #max })
        }
    })
}

/// A field's `Param`, as a constant expression.
fn param(field: &Field) -> Result<TokenStream, String> {
    let name = &field.name;
    let kind = param_kind(field)?;
    let required = field.required.then(|| quote!(.required()));
    let default = field.default.as_ref().map(|d| {
        let json = d.to_string();
        quote!(.default(#json))
    });
    let file = field.file.as_ref().map(|file| {
        let types = &file.types;
        let max = option(file.max_bytes.map(Literal::u64_unsuffixed));
        quote!(.file(kie_core::upload::FileLimits::new(&[#(#types),*], #max)))
    });
    let description = &field.description;
    Ok(quote! {
        Param::new(#name, #kind)#required #default.description(#description)#file
    })
}

/// The checks `validate()` runs for one field on `value` (a reference for text and
/// lists, a copy for numbers), reporting under the field name `at` (an expression).
fn checks(field: &Field, at: &TokenStream) -> Result<Option<TokenStream>, String> {
    let name = &field.name;
    let usize_lit = |n: u64, what: &str| -> Result<Literal, String> {
        usize::try_from(n)
            .map(Literal::usize_unsuffixed)
            .map_err(|_| format!("input.{name}: {what} too large"))
    };
    let mut out = TokenStream::new();
    match &field.kind {
        Kind::Text {
            min_chars,
            max_chars,
        } => {
            if let Some(min) = min_chars {
                let min = usize_lit(*min, "minLength")?;
                out.extend(quote!(v.min_chars(#at, value, #min);));
            }
            if let Some(max) = max_chars {
                let max = usize_lit(*max, "maxLength")?;
                out.extend(quote!(v.max_chars(#at, value, #max);));
            }
        }
        Kind::Url { max_chars } => {
            out.extend(quote!(v.url(#at, value);));
            if let Some(max) = max_chars {
                let max = usize_lit(*max, "maxLength")?;
                out.extend(quote!(v.max_chars(#at, value, #max);));
            }
        }
        Kind::Integer { min, max } if min.is_some() || max.is_some() => {
            // i64 limits written as f64 literals: the documented limits are far inside
            // the range where f64 is exact.
            let min = option(min.map(|m| f64_lit(m as f64)));
            let max = option(max.map(|m| f64_lit(m as f64)));
            out.extend(quote!(v.range(#at, value as f64, #min, #max);));
        }
        Kind::Number { min, max, step } => {
            if min.is_some() || max.is_some() {
                let min = option(min.map(f64_lit));
                let max = option(max.map(f64_lit));
                out.extend(quote!(v.range(#at, value, #min, #max);));
            }
            if let Some(step) = step {
                let step = f64_lit(*step);
                out.extend(quote!(v.multiple_of(#at, value, #step);));
            }
        }
        Kind::TextList {
            min_items,
            max_items,
        }
        | Kind::UrlList {
            min_items,
            max_items,
        }
        | Kind::Objects {
            min_items,
            max_items,
            ..
        } => {
            if let Some(min) = min_items {
                let min = usize_lit(*min, "minItems")?;
                out.extend(quote!(v.min_items(#at, value.len(), #min);));
            }
            if let Some(max) = max_items {
                let max = usize_lit(*max, "maxItems")?;
                out.extend(quote!(v.max_items(#at, value.len(), #max);));
            }
            match &field.kind {
                Kind::UrlList { .. } => out.extend(quote! {
                    for (i, item) in value.iter().enumerate() {
                        v.url(&format!("{}[{i}]", #at), item);
                    }
                }),
                Kind::Objects { .. } => out.extend(quote! {
                    for (i, item) in value.iter().enumerate() {
                        item.check(&mut v, &format!("{}[{i}]", #at));
                    }
                }),
                _ => {}
            }
        }
        _ => {}
    }
    Ok((!out.is_empty()).then_some(out))
}

fn by_ref(field: &Field) -> bool {
    matches!(
        field.kind,
        Kind::Text { .. }
            | Kind::Url { .. }
            | Kind::TextList { .. }
            | Kind::UrlList { .. }
            | Kind::Objects { .. }
    )
}

fn enum_item(field: &Field) -> Option<TokenStream> {
    let Kind::Choice { values, variants } = &field.kind else {
        return None;
    };
    let ty = enum_ident(field);
    let name = &field.name;
    let default = field.default.as_ref().and_then(|d| d.as_str());
    let derive_default = default.map(|_| quote!(Default,));
    let count = Literal::usize_unsuffixed(values.len());
    let idents: Vec<_> = variants.iter().map(|v| format_ident!("{}", v)).collect();
    let items = values.iter().zip(&idents).map(|(value, ident)| {
        let is_default = default == Some(value.as_str());
        let doc = if is_default {
            docs(&format!("`{value:?}`, kie.ai's default."))
        } else {
            docs(&format!("`{value:?}`."))
        };
        let default_attr = is_default.then(|| quote!(#[default]));
        quote! {
            #doc
            #default_attr
            #[serde(rename = #value)]
            #ident
        }
    });
    let doc = docs(&format!(
        "The values of `{name}`. {}\n\nSerialized exactly as kie.ai spells them: {}.",
        field.description,
        values
            .iter()
            .map(|v| format!("`{v:?}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Some(quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, #derive_default serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub enum #ty {
            #(#items,)*
        }

        impl #ty {
            /// Every value, in documented order.
            pub const ALL: [#ty; #count] = [#(#ty::#idents),*];

            /// The value as kie.ai spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    #(#ty::#idents => #values,)*
                }
            }
        }

        impl std::fmt::Display for #ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for #ty {
            type Err = ValidationError;

            /// Parses the value as kie.ai spells it.
            ///
            /// # Errors
            ///
            /// A [`ValidationError`] on the field, listing the allowed values.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                #ty::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        ValidationError::new(
                            #name,
                            kie_core::Problem::NotAllowed {
                                value: s.to_owned(),
                                allowed: #ty::ALL.iter().map(|v| v.as_str().to_owned()).collect(),
                            },
                        )
                    })
            }
        }
    })
}

/// A short example value for a required field, as Rust code, for the doc example.
fn example_arg(model: &ModelSpec, field: &Field) -> TokenStream {
    match &field.kind {
        Kind::Text { max_chars, .. } if max_chars.is_some_and(|m| m < 40) => quote!("fox"),
        Kind::Text { .. } => quote!("a red fox running through fresh snow"),
        Kind::Url { .. } => quote!("https://example.com/fox.png"),
        Kind::Choice { variants, .. } => {
            let ty = enum_ident(field);
            let v = format_ident!("{}", variants[0]);
            let module = format_ident!("{}", model.module);
            let krate = crate_ident(&model.krate);
            quote!(#krate::#module::#ty::#v)
        }
        Kind::Integer { min, .. } => {
            let v = Literal::i64_unsuffixed(min.unwrap_or(0));
            quote!(#v)
        }
        Kind::Number { min, .. } => {
            let v = f64_lit(min.unwrap_or(0.0));
            quote!(#v)
        }
        Kind::Boolean => quote!(true),
        Kind::TextList { .. } => quote!(["a"]),
        Kind::UrlList { .. } => quote!(["https://example.com/fox.png"]),
        Kind::Objects { fields, .. } => {
            let item = item_ident(field);
            let module = format_ident!("{}", model.module);
            let krate = crate_ident(&model.krate);
            let args = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| example_arg(model, f));
            quote!([#krate::#module::#item::new(#(#args),*)])
        }
    }
}

fn input_example(model: &ModelSpec, input: &str) -> String {
    let krate = model.krate.replace('-', "_");
    let required: Vec<String> = model
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| example_arg(model, f).to_string().replace(" :: ", "::"))
        .collect();
    let setter = model.fields.iter().find_map(|f| match &f.kind {
        Kind::Choice { values, variants } if !f.required => Some((
            f,
            enum_ident(f).to_string(),
            values[values.len() - 1].clone(),
            variants[variants.len() - 1].clone(),
        )),
        _ => None,
    });
    let mut text = String::from("# Example\n\n```\nuse kie_core::ModelInput;\n");
    match &setter {
        Some((_, ty, _, _)) => text.push_str(&format!(
            "use {krate}::{}::{{{input}, {ty}}};\n",
            model.module
        )),
        None => text.push_str(&format!("use {krate}::{input};\n")),
    }
    text.push_str(&format!(
        "\nlet input = {input}::new({})",
        required.join(", ")
    ));
    if let Some((field, ty, value, variant)) = &setter {
        text.push_str(&format!("\n    .{}({ty}::{variant});\n", field.name));
        text.push_str("input.validate()?;\n");
        text.push_str(&format!(
            "assert_eq!(serde_json::to_value(&input)?[{:?}], {value:?});\n",
            field.name
        ));
    } else {
        text.push_str(";\ninput.validate()?;\n");
    }
    text.push_str("# Ok::<(), Box<dyn std::error::Error>>(())\n```");
    text
}

fn uniform_target(target: &Target) -> TokenStream {
    match target {
        Target::Param(param) => quote!(Target::Param(#param)),
        Target::Item { param, index } => {
            let index = Literal::usize_unsuffixed(*index);
            quote!(Target::Item { param: #param, index: #index })
        }
        Target::Translated { param, values } => {
            let pairs = values.iter().map(|(from, to)| quote!((#from, #to)));
            quote!(Target::Translated { param: #param, values: &[#(#pairs),*] })
        }
        Target::Unsupported(hint) => quote!(Target::Unsupported { hint: #hint }),
    }
}

/// The module for one model.
fn model_module(model: &ModelSpec) -> Result<TokenStream, String> {
    for field in &model.fields {
        if RESERVED.contains(&field.name.as_str()) {
            return Err(format!(
                "{}: input.{} clashes with a generated method name",
                model.file, field.name
            ));
        }
    }
    let id = &model.id;
    let provider = &model.provider;
    let summary = &model.summary;
    let model_ty = format_ident!("{}", model.type_name);
    let input_name = format!("{}Input", model.type_name);
    let input_ty = format_ident!("{}", input_name);
    let modality = format_ident!(
        "{}",
        model
            .modality
            .split('-')
            .map(|part| camel(part))
            .collect::<String>()
    );
    let modality = quote!(Modality::#modality);

    let module_doc = inner_docs(&format!(
        "The `{id}` model: {}.\n\n{}\n\nTwo ways in: [`{input_name}`], whose every field and limit is checked \
         before sending, or [`{}`] through the uniform [`VideoRequest`](kie_core::VideoRequest), which maps onto \
         the same input and says what the model cannot take.",
        model.title, model.description, model.type_name
    ));

    let params = model
        .fields
        .iter()
        .map(param)
        .collect::<Result<Vec<_>, _>>()?;

    let uniform_fields = model.uniform.iter().map(|(name, target)| {
        let ident = format_ident!("{}", name);
        let target = uniform_target(target);
        quote!(#ident: #target)
    });

    let enums = model.fields.iter().filter_map(enum_item);

    let parts = struct_parts(&model.fields, false)?;
    let (struct_fields, new_args, inits, setters) =
        (&parts.fields, &parts.new_args, &parts.inits, &parts.setters);
    let validations = &parts.checks;
    let required_names: Vec<String> = model
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| format!("`{}`", f.name))
        .collect();
    let new_doc = docs(&format!(
        "An input with the required {} set and every optional field left out, so that \
         kie.ai applies its defaults.",
        required_names.join(" and ")
    ));
    let validate_body = if validations.is_empty() {
        quote!(Violations::default().finish())
    } else {
        quote! {
            let mut v = Violations::default();
            #(#validations)*
            v.finish()
        }
    };
    let items = model
        .fields
        .iter()
        .map(item_struct)
        .collect::<Result<Vec<_>, _>>()?;

    let input_doc = docs(&format!(
        "The `input` object of `{id}`: every documented field, in documented order.\n\n\
         Serializes to exactly the JSON kie.ai documents (unset optional fields are left \
         out) and refuses unknown fields when deserializing, like the spec's \
         `additionalProperties: false`. Build it with [`{input_name}::new`] and the \
         setters, or parse JSON with [`{input_name}::from_json`]; [`ModelInput::validate`] \
         checks every limit.\n\n{}",
        input_example(model, &input_name)
    ));
    let model_doc = docs(&format!(
        "The `{id}` model, for the uniform request: use it as `Arc<dyn VideoModel>`.\n\n\
         [`VideoModel::input_for`] maps a [`VideoRequest`] onto [`{input_name}`] \
         (see [`UNIFORM`] for how) and validates it; what the model cannot take is an \
         error, never dropped."
    ));
    let progress = model.progress_callback;
    let with_progress = progress.then(|| quote!(.with_progress_callback()));
    let progress_doc = docs(if progress {
        "Whether createTask takes a top-level `progressCallBackUrl` for this model: yes, \
         it POSTs progress there while the task runs."
    } else {
        "Whether createTask takes a top-level `progressCallBackUrl` for this model: no, \
         only `callBackUrl`."
    });
    let info_doc = docs(&format!(
        "What `{id}` accepts: each parameter with its kind, limits, default and description."
    ));

    Ok(quote! {
        #module_doc

        use kie_core::__private::{self as support, Target, UniformMapping, Violations};
        use kie_core::{
            Modality, ModelInfo, ModelInput, Param, ParamKind, ValidationError, VideoModel,
            VideoRequest,
        };

        /// The model id, sent as `model`.
        pub const MODEL_ID: &str = #id;

        #progress_doc
        pub const PROGRESS_CALLBACK: bool = #progress;

        #info_doc
        pub static INFO: ModelInfo = ModelInfo::new(
            MODEL_ID,
            #provider,
            #modality,
            #summary,
            &[#(#params),*],
        )#with_progress;

        /// How the uniform request's fields map onto this model's input.
        pub static UNIFORM: UniformMapping = UniformMapping {
            #(#uniform_fields,)*
        };

        #model_doc
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct #model_ty;

        impl #model_ty {
            /// The model id, sent as `model`.
            pub const MODEL_ID: &'static str = MODEL_ID;
        }

        impl VideoModel for #model_ty {
            fn info(&self) -> &'static ModelInfo {
                &INFO
            }

            fn input_for(&self, request: &VideoRequest) -> Result<serde_json::Value, ValidationError> {
                support::map_request(&INFO, &UNIFORM, request, #input_ty::from_json)
            }

            fn parse_input(&self, input: serde_json::Value) -> Result<serde_json::Value, ValidationError> {
                support::to_json(&#input_ty::from_json(input)?)
            }
        }

        #(#enums)*

        #(#items)*

        #input_doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct #input_ty {
            #(#struct_fields)*
        }

        impl #input_ty {
            /// The model id, sent as `model`.
            pub const MODEL_ID: &'static str = MODEL_ID;

            #new_doc
            pub fn new(#(#new_args),*) -> Self {
                Self {
                    #(#inits,)*
                }
            }

            #(#setters)*

            /// Parses an `input` object (from a file, a form, a command line) and checks
            /// it: unknown fields, types, enum values, then every limit.
            ///
            /// # Errors
            ///
            /// A [`ValidationError`] naming each field, the rule it broke and what is
            /// allowed.
            pub fn from_json(value: serde_json::Value) -> Result<Self, ValidationError> {
                let input: Self = support::decode(&INFO, value)?;
                input.validate()?;
                Ok(input)
            }
        }

        impl ModelInput for #input_ty {
            fn model_id(&self) -> &str {
                MODEL_ID
            }

            fn validate(&self) -> Result<(), ValidationError> {
                #validate_body
            }

            fn takes_progress_callback(&self) -> bool {
                PROGRESS_CALLBACK
            }
        }
    })
}

/// The pieces of a generated struct (an input, or the item of a list of objects): its
/// fields, `new`'s arguments and initialisers, the setters of optional fields, and the
/// checks of `validate()` (on `self`, into `v`).
struct StructParts {
    fields: Vec<TokenStream>,
    new_args: Vec<TokenStream>,
    inits: Vec<TokenStream>,
    setters: Vec<TokenStream>,
    checks: Vec<TokenStream>,
}

/// `nested`: the fields of a list item, whose problems are reported under `at`
/// (`multi_prompt[0].prompt`) rather than under their bare names.
fn struct_parts(fields: &[Field], nested: bool) -> Result<StructParts, String> {
    let mut parts = StructParts {
        fields: Vec::new(),
        new_args: Vec::new(),
        inits: Vec::new(),
        setters: Vec::new(),
        checks: Vec::new(),
    };
    for field in fields {
        let ident = field_ident(field);
        if RESERVED.contains(&ident.to_string().as_str()) || ident == "check" {
            return Err(format!(
                "field `{}` clashes with a generated method name",
                field.name
            ));
        }
        let ty = value_type(field);
        let doc = docs(&field_doc(field));
        let name = &field.name;
        let rename = (ident != name).then(|| quote!(#[serde(rename = #name)]));
        // A whole number is written as the pages write it, `5` and not `5.0`.
        let number = matches!(field.kind, Kind::Number { .. });
        parts.fields.push(if field.required {
            let number = number.then(|| quote!(#[serde(serialize_with = "support::number")]));
            quote! {
                #doc
                #rename
                #number
                pub #ident: #ty,
            }
        } else {
            let number =
                number.then(|| quote!(#[serde(serialize_with = "support::optional_number")]));
            quote! {
                #doc
                #rename
                #number
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub #ident: Option<#ty>,
            }
        });
        if field.required {
            let (arg_ty, conv) = setter_arg(field, &ident);
            parts.new_args.push(quote!(#ident: #arg_ty));
            parts.inits.push(if by_ref(field) {
                quote!(#ident: #conv)
            } else {
                quote!(#ident)
            });
        } else {
            parts.inits.push(quote!(#ident: None));
            let (arg_ty, conv) = setter_arg(field, &format_ident!("value"));
            let doc = docs(&format!("Sets `{name}`; see the field for its limits."));
            parts.setters.push(quote! {
                #doc
                #[must_use]
                pub fn #ident(mut self, value: #arg_ty) -> Self {
                    self.#ident = Some(#conv);
                    self
                }
            });
        }
        let at = if nested {
            quote!(&format!("{}.{}", at, #name))
        } else {
            quote!(#name)
        };
        let Some(check) = checks(field, &at)? else {
            continue;
        };
        let access = match (field.required, by_ref(field)) {
            (true, true) => quote!(let value = &self.#ident;),
            (true, false) => quote!(let value = self.#ident;),
            (false, true) => quote!(if let Some(value) = &self.#ident),
            (false, false) => quote!(if let Some(value) = self.#ident),
        };
        parts.checks.push(if field.required {
            quote!({ #access #check })
        } else {
            quote!(#access { #check })
        });
    }
    Ok(parts)
}

/// The item type of a list of objects, if `field` is one.
fn item_struct(field: &Field) -> Result<Option<TokenStream>, String> {
    let Kind::Objects { fields, .. } = &field.kind else {
        return Ok(None);
    };
    let ident = item_ident(field);
    let parts = struct_parts(fields, true).map_err(|e| format!("input.{}: {e}", field.name))?;
    let StructParts {
        fields: struct_fields,
        new_args,
        inits,
        setters,
        checks,
    } = parts;
    let doc = docs(&format!(
        "One item of `{}`. {}\n\nSerializes to exactly the object kie.ai documents and refuses unknown fields when deserializing; the input's `validate()` checks it.",
        field.name, field.description
    ));
    let names: Vec<String> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| format!("`{}`", f.name))
        .collect();
    let new_doc = docs(&if names.is_empty() {
        "An item with every optional field left out.".to_owned()
    } else {
        format!(
            "An item with the required {} set and every optional field left out.",
            names.join(" and ")
        )
    });
    let check_fn = if checks.is_empty() {
        quote! {
            fn check(&self, _: &mut Violations, _: &str) {}
        }
    } else {
        quote! {
            fn check(&self, v: &mut Violations, at: &str) {
                #(#checks)*
            }
        }
    };
    Ok(Some(quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct #ident {
            #(#struct_fields)*
        }

        impl #ident {
            #new_doc
            pub fn new(#(#new_args),*) -> Self {
                Self {
                    #(#inits,)*
                }
            }

            #(#setters)*

            /// Checks every limit of the item, reporting each problem under `at` and
            /// the field's name.
            #check_fn
        }
    }))
}

/// `generated/mod.rs` of a provider crate.
fn crate_module(models: &[&ModelSpec]) -> TokenStream {
    let modules = models.iter().map(|m| {
        let module = format_ident!("{}", m.module);
        let ty = format_ident!("{}", m.type_name);
        let input = format_ident!("{}Input", m.type_name);
        let doc = docs(&format!("`{}`: {}.", m.id, m.title));
        quote! {
            #doc
            pub mod #module;
            pub use #module::{#ty, #input};
        }
    });
    let arcs = models.iter().map(|m| {
        let module = format_ident!("{}", m.module);
        let ty = format_ident!("{}", m.type_name);
        quote!(std::sync::Arc::new(#module::#ty))
    });
    quote! {
        //! The models of this crate, generated from `spec/`.

        #(#modules)*

        /// Every model of this crate, for a registry of models chosen at run time.
        pub fn models() -> Vec<std::sync::Arc<dyn kie_core::VideoModel>> {
            vec![#(#arcs),*]
        }
    }
}

/// `generated/mod.rs` of the facade: which models exist and which feature enables them.
fn catalog(by_crate: &BTreeMap<&str, Vec<&ModelSpec>>) -> TokenStream {
    let known = by_crate.values().flatten().map(|m| {
        let id = &m.id;
        let feature = &m.provider;
        quote!((#id, #feature))
    });
    let calls = by_crate.values().filter_map(|models| {
        let feature = format_ident!("{}", models.first()?.provider);
        Some(quote!(#feature()))
    });
    let fns = by_crate.iter().filter_map(|(krate, models)| {
        let feature_name = &models.first()?.provider;
        let feature = format_ident!("{}", feature_name);
        let krate = crate_ident(krate);
        Some(quote! {
            #[cfg(feature = #feature_name)]
            fn #feature() -> Vec<Arc<dyn VideoModel>> {
                #krate::models()
            }

            #[cfg(not(feature = #feature_name))]
            fn #feature() -> Vec<Arc<dyn VideoModel>> {
                Vec::new()
            }
        })
    });
    quote! {
        //! The catalog of every model kie-rs knows, generated from `spec/`.

        use std::sync::Arc;

        use kie_core::VideoModel;

        /// Every known model id with the cargo feature of this crate that compiles it in,
        /// enabled or not, so that a lookup can say which feature a missing model needs.
        pub(crate) const KNOWN: &[(&str, &str)] = &[#(#known),*];

        /// The models of every enabled feature.
        pub(crate) fn enabled() -> Vec<Arc<dyn VideoModel>> {
            [#(#calls),*].concat()
        }

        #(#fns)*
    }
}
