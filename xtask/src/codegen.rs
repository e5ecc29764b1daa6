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

use crate::spec::{self, Field, Kind, Modality, ModelSpec, Target};

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
        Kind::Text { .. } | Kind::Url => quote!(String),
        Kind::Choice { .. } => {
            let ty = enum_ident(field);
            quote!(#ty)
        }
        Kind::Integer { .. } => quote!(i64),
        Kind::Number { .. } => quote!(f64),
        Kind::Boolean => quote!(bool),
        Kind::TextList { .. } => quote!(Vec<String>),
    }
}

/// The type a constructor or setter takes, and how its argument `var` becomes the
/// field's value.
fn setter_arg(field: &Field, var: &proc_macro2::Ident) -> (TokenStream, TokenStream) {
    match &field.kind {
        Kind::Text { .. } | Kind::Url => (quote!(impl Into<String>), quote!(#var.into())),
        Kind::TextList { .. } => (
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
            max_chars: Some(max),
        } => out.push(format!(
            "At most {max} characters (counted as characters, not bytes)."
        )),
        Kind::Text { max_chars: None } | Kind::Boolean => {}
        Kind::Url => out.push("An absolute http(s) URL.".into()),
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
            max_items: Some(max),
        } => out.push(format!("At most {max} items.")),
        Kind::TextList { max_items: None } => {}
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

fn field_doc(field: &Field) -> String {
    format!("{}\n\n{}", field.description, limits_text(field).join(" "))
}

fn param_kind(field: &Field) -> Result<TokenStream, String> {
    let too_big = || format!("input.{}: a limit does not fit in u32", field.name);
    Ok(match &field.kind {
        Kind::Text { max_chars } => {
            let max = option(
                max_chars
                    .map(|m| u32::try_from(m).map(Literal::u32_unsuffixed))
                    .transpose()
                    .map_err(|_| too_big())?,
            );
            quote!(ParamKind::Text { max_chars: #max })
        }
        Kind::Url => quote!(ParamKind::Url),
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
        Kind::TextList { max_items } => {
            let max = option(
                max_items
                    .map(|m| u32::try_from(m).map(Literal::u32_unsuffixed))
                    .transpose()
                    .map_err(|_| too_big())?,
            );
            quote!(ParamKind::TextList { max_items: #max })
        }
    })
}

/// The checks `validate()` runs for one field, on `value` (a reference for text and
/// lists, a copy for numbers).
fn checks(field: &Field) -> Result<Option<TokenStream>, String> {
    let name = &field.name;
    Ok(match &field.kind {
        Kind::Text {
            max_chars: Some(max),
        } => {
            let max = Literal::usize_unsuffixed(
                usize::try_from(*max).map_err(|_| format!("input.{name}: maxLength too large"))?,
            );
            Some(quote!(v.max_chars(#name, value, #max);))
        }
        Kind::Url => Some(quote!(v.url(#name, value);)),
        Kind::Integer { min, max } if min.is_some() || max.is_some() => {
            // i64 limits written as f64 literals: the documented limits are far inside
            // the range where f64 is exact.
            let min = option(min.map(|m| f64_lit(m as f64)));
            let max = option(max.map(|m| f64_lit(m as f64)));
            Some(quote!(v.range(#name, value as f64, #min, #max);))
        }
        Kind::Number { min, max, step } => {
            let mut out = TokenStream::new();
            if min.is_some() || max.is_some() {
                let min = option(min.map(f64_lit));
                let max = option(max.map(f64_lit));
                out.extend(quote!(v.range(#name, value, #min, #max);));
            }
            if let Some(step) = step {
                let step = f64_lit(*step);
                out.extend(quote!(v.multiple_of(#name, value, #step);));
            }
            (!out.is_empty()).then_some(out)
        }
        Kind::TextList {
            max_items: Some(max),
        } => {
            let max = Literal::usize_unsuffixed(
                usize::try_from(*max).map_err(|_| format!("input.{name}: maxItems too large"))?,
            );
            Some(quote!(v.max_items(#name, value.len(), #max);))
        }
        _ => None,
    })
}

fn by_ref(field: &Field) -> bool {
    matches!(
        field.kind,
        Kind::Text { .. } | Kind::Url | Kind::TextList { .. }
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
        Kind::Text { .. } => quote!("a red fox running through fresh snow"),
        Kind::Url => quote!("https://example.com/fox.png"),
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
    let modality = match model.modality {
        Modality::TextToVideo => quote!(Modality::TextToVideo),
        Modality::ImageToVideo => quote!(Modality::ImageToVideo),
    };

    let module_doc = inner_docs(&format!(
        "The `{id}` model: {}.\n\n{}\n\nTwo ways in: [`{input_name}`], whose every field and limit is checked \
         before sending, or [`{}`] through the uniform [`VideoRequest`](kie_core::VideoRequest), which maps onto \
         the same input and says what the model cannot take.",
        model.title, model.description, model.type_name
    ));

    let mut params = Vec::new();
    for field in &model.fields {
        let name = &field.name;
        let kind = param_kind(field)?;
        let required = field.required.then(|| quote!(.required()));
        let default = field.default.as_ref().map(|d| {
            let json = d.to_string();
            quote!(.default(#json))
        });
        let description = &field.description;
        params.push(quote! {
            Param::new(#name, #kind)#required #default.description(#description)
        });
    }

    let uniform_fields = model.uniform.iter().map(|(name, target)| {
        let ident = format_ident!("{}", name);
        let target = uniform_target(target);
        quote!(#ident: #target)
    });

    let enums = model.fields.iter().filter_map(enum_item);

    let struct_fields = model.fields.iter().map(|field| {
        let ident = format_ident!("{}", field.name);
        let ty = value_type(field);
        let doc = docs(&field_doc(field));
        if field.required {
            quote! {
                #doc
                pub #ident: #ty,
            }
        } else {
            quote! {
                #doc
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub #ident: Option<#ty>,
            }
        }
    });

    let required: Vec<&Field> = model.fields.iter().filter(|f| f.required).collect();
    let new_args = required.iter().map(|f| {
        let ident = format_ident!("{}", f.name);
        let (ty, _) = setter_arg(f, &ident);
        quote!(#ident: #ty)
    });
    let inits = model.fields.iter().map(|f| {
        let ident = format_ident!("{}", f.name);
        if f.required && by_ref(f) {
            let (_, conv) = setter_arg(f, &ident);
            quote!(#ident: #conv)
        } else if f.required {
            quote!(#ident)
        } else {
            quote!(#ident: None)
        }
    });
    let required_names: Vec<String> = required.iter().map(|f| format!("`{}`", f.name)).collect();
    let new_doc = docs(&format!(
        "An input with the required {} set and every optional field left out, so that \
         kie.ai applies its defaults.",
        required_names.join(" and ")
    ));

    let setters = model.fields.iter().filter(|f| !f.required).map(|f| {
        let ident = format_ident!("{}", f.name);
        let (ty, conv) = setter_arg(f, &format_ident!("value"));
        let doc = docs(&format!("Sets `{}`; see the field for its limits.", f.name));
        quote! {
            #doc
            #[must_use]
            pub fn #ident(mut self, value: #ty) -> Self {
                self.#ident = Some(#conv);
                self
            }
        }
    });

    let mut validations = Vec::new();
    for field in &model.fields {
        let Some(check) = checks(field)? else {
            continue;
        };
        let ident = format_ident!("{}", field.name);
        let access = match (field.required, by_ref(field)) {
            (true, true) => quote!(let value = &self.#ident;),
            (true, false) => quote!(let value = self.#ident;),
            (false, true) => quote!(if let Some(value) = &self.#ident),
            (false, false) => quote!(if let Some(value) = self.#ident),
        };
        validations.push(if field.required {
            quote!({ #access #check })
        } else {
            quote!(#access { #check })
        });
    }
    let validate_body = if validations.is_empty() {
        quote!(Violations::default().finish())
    } else {
        quote! {
            let mut v = Violations::default();
            #(#validations)*
            v.finish()
        }
    };

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
        );

        /// How the uniform request's fields map onto this model's input.
        pub static UNIFORM: UniformMapping = UniformMapping {
            prompt: "prompt",
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
        }

        #(#enums)*

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
