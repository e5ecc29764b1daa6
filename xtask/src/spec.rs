//! Reads the model documents in `spec/` into a description the generator can trust.
//!
//! The reader is strict on purpose: every keyword on an input field must be one the
//! generator enforces (or a pure annotation such as `description`). A limit added to a
//! spec that the generator does not understand fails the generation instead of being
//! silently left unchecked by the SDK while the emulator enforces it.

use std::fs;
use std::path::Path;

use crate::json::Json;

/// The path every model document describes.
pub const CREATE_TASK: &str = "/api/v1/jobs/createTask";

/// The only `pattern` a `format: uri` field may carry: an absolute http(s) URL with a
/// host, which is what `Violations::url` checks in the generated code.
pub const HTTP_URL_PATTERN: &str = r"^https?://[^\s/?#]+([/?#]\S*)?$";

/// The fields of the uniform `VideoRequest` a model must say how it takes, in order.
pub const UNIFORM_FIELDS: [&str; 6] = [
    "image_url",
    "duration_secs",
    "aspect_ratio",
    "resolution",
    "seed",
    "negative_prompt",
];

/// Top-level request fields a model document may have besides `model` and `input`.
const TOP_LEVEL_OPTIONAL: [&str; 2] = ["callBackUrl", "progressCallBackUrl"];

/// One model document, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The document's path relative to the workspace root, with `/` separators.
    pub file: String,
    /// The model id, the one value of the `model` enum.
    pub id: String,
    /// `info.title`.
    pub title: String,
    /// The first paragraph of `info.description`: one line about the model.
    pub summary: String,
    /// The whole of `info.description`.
    pub description: String,
    /// The provider crate the model belongs to, such as `kie-kling`.
    pub krate: String,
    /// The Rust module of the model inside its crate.
    pub module: String,
    /// The Rust name of the model type; the input type adds `Input`.
    pub type_name: String,
    /// The provider name (`kling`), which is also the facade's cargo feature.
    pub provider: String,
    /// `text-to-video` or `image-to-video`.
    pub modality: Modality,
    /// How each uniform request field maps, in [`UNIFORM_FIELDS`] order.
    pub uniform: Vec<(String, Target)>,
    /// Whether the request takes a top-level `progressCallBackUrl`.
    pub progress_callback: bool,
    /// The `input` fields in documented order.
    pub fields: Vec<Field>,
}

/// What a model turns into a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// A prompt in, a video out.
    TextToVideo,
    /// An image and a prompt in, a video out.
    ImageToVideo,
}

/// Where one uniform request field goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Sent as is to this input field.
    Param(String),
    /// Sent to this input field through a table of (uniform value, model value).
    Translated {
        /// The input field.
        param: String,
        /// The table, in document order.
        values: Vec<(String, String)>,
    },
    /// The model cannot take it; the hint says why or what to use instead.
    Unsupported(String),
}

/// One field of `input`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name as kie.ai spells it.
    pub name: String,
    /// Its type and limits.
    pub kind: Kind,
    /// Whether `input.required` lists it.
    pub required: bool,
    /// The documented default.
    pub default: Option<serde_json::Value>,
    /// The documented description.
    pub description: String,
}

/// A field's type and limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A string, with a length limit in characters.
    Text {
        /// `maxLength`.
        max_chars: Option<u64>,
    },
    /// A string with `format: uri` and the http(s) pattern.
    Url,
    /// A string enum.
    Choice {
        /// The values, exactly as sent.
        values: Vec<String>,
        /// The Rust variant names (`x-enum-varnames`).
        variants: Vec<String>,
    },
    /// A `number` with `multipleOf: 1` (or an `integer`).
    Integer {
        /// `minimum`.
        min: Option<i64>,
        /// `maximum`.
        max: Option<i64>,
    },
    /// A `number`.
    Number {
        /// `minimum`.
        min: Option<f64>,
        /// `maximum`.
        max: Option<f64>,
        /// `multipleOf`.
        step: Option<f64>,
    },
    /// A boolean.
    Boolean,
    /// An array of strings.
    TextList {
        /// `maxItems`.
        max_items: Option<u64>,
    },
}

/// One document of `spec/`: its file name and its text, exactly as on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file name, e.g. `kling-v2-1-master-text-to-video.json`.
    pub name: String,
    /// The whole file.
    pub text: String,
}

/// Every `*.json` document in `<root>/spec`, sorted by file name.
///
/// # Errors
///
/// The directory or a file cannot be read, or the directory holds no document: every
/// crate built from `spec/` would then be empty.
pub fn documents(root: &Path) -> Result<Vec<Document>, String> {
    let dir = root.join("spec");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    if names.is_empty() {
        return Err(format!("{}: no *.json document", dir.display()));
    }
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text =
                fs::read_to_string(dir.join(&name)).map_err(|e| format!("spec/{name}: {e}"))?;
            Ok(Document { name, text })
        })
        .collect()
}

/// Reads the model documents (those with an `x-kie-rs` member) among `documents`, in
/// their order, and checks that the other documents are valid JSON.
///
/// # Errors
///
/// A message naming the file and the field for anything the generator cannot honour.
pub fn read_models(documents: &[Document]) -> Result<Vec<ModelSpec>, String> {
    let mut models = Vec::new();
    for document in documents {
        let rel = format!("spec/{}", document.name);
        let doc = Json::parse(&document.text).map_err(|e| format!("{rel}: {e}"))?;
        if doc.get("x-kie-rs").is_some() {
            models.push(read_model(&rel, &doc).map_err(|e| format!("{rel}: {e}"))?);
        }
    }
    let mut ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two documents describe the model `{}`", pair[0]));
    }
    Ok(models)
}

/// Reads one model document.
///
/// # Errors
///
/// A message naming the member that is missing or that the generator cannot honour.
pub fn read_model(file: &str, doc: &Json) -> Result<ModelSpec, String> {
    let info = member(doc, "info", "the document")?;
    let title = string(info, "title", "info")?.to_owned();
    let description = string(info, "description", "info")?.to_owned();
    let summary = description
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();

    let ext = member(doc, "x-kie-rs", "the document")?;
    let krate = string(ext, "crate", "x-kie-rs")?.to_owned();
    let module = string(ext, "module", "x-kie-rs")?.to_owned();
    let type_name = string(ext, "type", "x-kie-rs")?.to_owned();
    let provider = string(ext, "provider", "x-kie-rs")?.to_owned();
    check_ident(&module, "x-kie-rs.module", IdentCase::Snake)?;
    check_ident(&type_name, "x-kie-rs.type", IdentCase::Camel)?;
    if krate != format!("kie-{provider}") {
        return Err(format!(
            "x-kie-rs.crate is `{krate}` but the provider `{provider}` lives in `kie-{provider}`"
        ));
    }
    let modality = match string(ext, "modality", "x-kie-rs")? {
        "text-to-video" => Modality::TextToVideo,
        "image-to-video" => Modality::ImageToVideo,
        other => {
            return Err(format!(
                "x-kie-rs.modality `{other}` is neither text-to-video nor image-to-video"
            ));
        }
    };

    let post = doc
        .get("paths")
        .and_then(|p| p.get(CREATE_TASK))
        .and_then(|p| p.get("post"))
        .ok_or_else(|| format!("no `post` operation on `{CREATE_TASK}`"))?;
    let schema = post
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(|c| c.get("application/json"))
        .and_then(|j| j.get("schema"))
        .ok_or("no requestBody.content.application/json.schema")?;
    expect_closed_object(schema, "the request body")?;
    let top = member(schema, "properties", "the request body")?
        .as_object()
        .ok_or("the request body's properties are not an object")?;
    for (name, _) in top {
        if name != "model" && name != "input" && !TOP_LEVEL_OPTIONAL.contains(&name.as_str()) {
            return Err(format!("unsupported top-level request field `{name}`"));
        }
    }
    let top_required = string_list(schema, "required", "the request body")?;
    if top_required != ["model", "input"] {
        return Err("the request body must require exactly `model` and `input`".into());
    }
    let model = member(schema, "properties", "the request body")?
        .get("model")
        .ok_or("no `model` property")?;
    let ids = string_list(model, "enum", "model")?;
    let [id] = ids.as_slice() else {
        return Err("`model` must be a one-value enum".into());
    };
    let id = id.clone();

    let input = doc_path(schema, &["properties", "input"]).ok_or("no `input` property")?;
    expect_closed_object(input, "input")?;
    let required = string_list(input, "required", "input")?;
    let props = member(input, "properties", "input")?
        .as_object()
        .ok_or("input.properties is not an object")?;
    let mut fields = Vec::new();
    for (name, schema) in props {
        check_ident(name, &format!("input.{name}"), IdentCase::Snake)?;
        let field = read_field(name, schema, required.contains(name))
            .map_err(|e| format!("input.{name}: {e}"))?;
        fields.push(field);
    }
    for name in &required {
        if !fields.iter().any(|f| &f.name == name) {
            return Err(format!(
                "input.required names `{name}`, which has no property"
            ));
        }
    }
    if !fields.iter().any(|f| f.name == "prompt" && f.required) {
        return Err("input must have a required `prompt`".into());
    }

    let progress_callback = top.iter().any(|(name, _)| name == "progressCallBackUrl");
    let uniform = read_uniform(member(ext, "uniform", "x-kie-rs")?, &fields)
        .map_err(|e| format!("x-kie-rs.uniform: {e}"))?;

    Ok(ModelSpec {
        file: file.to_owned(),
        id,
        title,
        summary,
        description,
        krate,
        module,
        type_name,
        provider,
        modality,
        uniform,
        progress_callback,
        fields,
    })
}

fn read_uniform(uniform: &Json, fields: &[Field]) -> Result<Vec<(String, Target)>, String> {
    let members = uniform.as_object().ok_or("not an object")?;
    for (name, _) in members {
        if !UNIFORM_FIELDS.contains(&name.as_str()) {
            return Err(format!("`{name}` is not a field of the uniform request"));
        }
    }
    let mut out = Vec::new();
    for name in UNIFORM_FIELDS {
        let entry = uniform
            .get(name)
            .ok_or_else(|| format!("says nothing about `{name}`: map it or say why not"))?;
        let keys: Vec<&str> = entry
            .as_object()
            .ok_or_else(|| format!("`{name}` is not an object"))?
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        let target = if let Some(hint) = entry.get("unsupported") {
            if keys != ["unsupported"] {
                return Err(format!("`{name}`: `unsupported` stands alone"));
            }
            let hint = hint
                .as_str()
                .ok_or_else(|| format!("`{name}.unsupported` is not a string"))?;
            Target::Unsupported(hint.to_owned())
        } else {
            let param = string(entry, "param", name)?.to_owned();
            let field = fields.iter().find(|f| f.name == param).ok_or_else(|| {
                format!("`{name}` maps to `{param}`, which is not an input field")
            })?;
            let fits = matches!(
                (name, &field.kind),
                ("image_url", Kind::Url | Kind::Text { .. })
                    | ("negative_prompt", Kind::Text { .. })
                    | (
                        "aspect_ratio" | "resolution",
                        Kind::Choice { .. } | Kind::Text { .. }
                    )
                    | (
                        "duration_secs",
                        Kind::Choice { .. } | Kind::Integer { .. } | Kind::Number { .. }
                    )
                    | ("seed", Kind::Integer { .. } | Kind::Number { .. })
            );
            if !fits {
                return Err(format!(
                    "`{name}` cannot be sent as `{param}`: the kinds differ"
                ));
            }
            match entry.get("values") {
                None => {
                    if keys != ["param"] {
                        return Err(format!("`{name}` has members other than `param`"));
                    }
                    Target::Param(param)
                }
                Some(values) => {
                    let Kind::Choice {
                        values: allowed, ..
                    } = &field.kind
                    else {
                        return Err(format!(
                            "`{name}` translates values for `{param}`, which is not an enum"
                        ));
                    };
                    let mut table = Vec::new();
                    for (from, to) in values
                        .as_object()
                        .ok_or_else(|| format!("`{name}.values` is not an object"))?
                    {
                        let to = to
                            .as_str()
                            .ok_or_else(|| format!("`{name}.values.{from}` is not a string"))?;
                        if !allowed.iter().any(|a| a == to) {
                            return Err(format!(
                                "`{name}.values.{from}` is `{to}`, which `{param}` does not allow"
                            ));
                        }
                        table.push((from.clone(), to.to_owned()));
                    }
                    Target::Translated {
                        param,
                        values: table,
                    }
                }
            }
        };
        out.push((name.to_owned(), target));
    }
    let mut params: Vec<&str> = out
        .iter()
        .filter_map(|(_, t)| match t {
            Target::Param(p) | Target::Translated { param: p, .. } => Some(p.as_str()),
            Target::Unsupported(_) => None,
        })
        .collect();
    params.sort_unstable();
    if let Some(pair) = params.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two uniform fields map to `{}`", pair[0]));
    }
    Ok(out)
}

/// Keywords that only annotate a field; everything else must be enforced.
const ANNOTATIONS: [&str; 3] = ["description", "example", "default"];

fn read_field(name: &str, schema: &Json, required: bool) -> Result<Field, String> {
    let description = string(schema, "description", "the field")?.to_owned();
    let ty = string(schema, "type", "the field")?;
    let has = |key: &str| schema.get(key).is_some();
    let (kind, keywords): (Kind, &[&str]) = match ty {
        "string" if has("enum") => {
            let values = string_list(schema, "enum", "the field")?;
            let variants = string_list(schema, "x-enum-varnames", "the field")?;
            if values.is_empty() || values.len() != variants.len() {
                return Err("`x-enum-varnames` must name each `enum` value once".into());
            }
            for v in &variants {
                check_ident(v, "a variant name", IdentCase::Camel)?;
            }
            (
                Kind::Choice { values, variants },
                &["type", "enum", "x-enum-varnames"],
            )
        }
        "string" if has("format") => {
            let format = string(schema, "format", "the field")?;
            let pattern = schema.get("pattern").and_then(Json::as_str);
            if format != "uri" || pattern != Some(HTTP_URL_PATTERN) {
                return Err(format!(
                    "a string with a format must be `format: uri` with `pattern: {HTTP_URL_PATTERN}`"
                ));
            }
            (Kind::Url, &["type", "format", "pattern"])
        }
        "string" => (
            Kind::Text {
                max_chars: opt_u64(schema, "maxLength")?,
            },
            &["type", "maxLength"],
        ),
        "boolean" => (Kind::Boolean, &["type"]),
        "number" | "integer" => {
            let step = schema.get("multipleOf").map(number).transpose()?;
            if ty == "integer" && step.is_some_and(|s| s != 1.0) {
                return Err("an integer's `multipleOf` other than 1 is not supported".into());
            }
            if ty == "integer" || step == Some(1.0) {
                (
                    Kind::Integer {
                        min: opt_i64(schema, "minimum")?,
                        max: opt_i64(schema, "maximum")?,
                    },
                    &["type", "minimum", "maximum", "multipleOf"],
                )
            } else {
                if step.is_some_and(|s| s <= 0.0) {
                    return Err("`multipleOf` must be positive".into());
                }
                (
                    Kind::Number {
                        min: schema.get("minimum").map(number).transpose()?,
                        max: schema.get("maximum").map(number).transpose()?,
                        step,
                    },
                    &["type", "minimum", "maximum", "multipleOf"],
                )
            }
        }
        "array" => {
            let items = member(schema, "items", "the field")?;
            if items.as_object().map(|m| m.len()) != Some(1)
                || items.get("type").and_then(Json::as_str) != Some("string")
            {
                return Err("arrays must have `items: {\"type\": \"string\"}`".into());
            }
            (
                Kind::TextList {
                    max_items: opt_u64(schema, "maxItems")?,
                },
                &["type", "items", "maxItems"],
            )
        }
        other => return Err(format!("unsupported type `{other}`")),
    };
    for (key, _) in schema.as_object().unwrap_or_default() {
        if !keywords.contains(&key.as_str()) && !ANNOTATIONS.contains(&key.as_str()) {
            return Err(format!(
                "keyword `{key}` is not supported for this type; the generator would not enforce it"
            ));
        }
    }
    let default = schema.get("default").map(Json::to_value);
    if let Some(default) = &default {
        if required {
            return Err("a required field cannot have a default".into());
        }
        if let Some(problem) = value_problem(&kind, default) {
            return Err(format!("the default {default} {problem}"));
        }
    }
    Ok(Field {
        name: name.to_owned(),
        kind,
        required,
        default,
        description,
    })
}

/// Why `value` does not fit `kind`, if it does not (limits included).
pub fn value_problem(kind: &Kind, value: &serde_json::Value) -> Option<String> {
    match kind {
        Kind::Text { max_chars } => match value.as_str() {
            None => Some("is not a string".into()),
            Some(s) if max_chars.is_some_and(|m| s.chars().count() as u64 > m) => {
                Some("is too long".into())
            }
            Some(_) => None,
        },
        Kind::Url => value
            .as_str()
            .is_none_or(|s| !(s.starts_with("http://") || s.starts_with("https://")))
            .then(|| "is not an http(s) URL".into()),
        Kind::Choice { values, .. } => value
            .as_str()
            .is_none_or(|s| !values.iter().any(|v| v == s))
            .then(|| "is not one of the enum values".into()),
        Kind::Integer { min, max } => match value.as_i64() {
            None => Some("is not a whole number".into()),
            Some(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => {
                Some("is out of range".into())
            }
            Some(_) => None,
        },
        Kind::Number { min, max, .. } => match value.as_f64() {
            None => Some("is not a number".into()),
            Some(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => {
                Some("is out of range".into())
            }
            Some(_) => None,
        },
        Kind::Boolean => (!value.is_boolean()).then(|| "is not a boolean".into()),
        Kind::TextList { max_items } => match value.as_array() {
            Some(items) if items.iter().all(serde_json::Value::is_string) => max_items
                .is_some_and(|m| items.len() as u64 > m)
                .then(|| "has too many items".into()),
            _ => Some("is not a list of strings".into()),
        },
    }
}

fn expect_closed_object(schema: &Json, what: &str) -> Result<(), String> {
    if schema.get("type").and_then(Json::as_str) != Some("object") {
        return Err(format!("{what} must be `type: object`"));
    }
    if schema.get("additionalProperties").and_then(Json::as_bool) != Some(false) {
        return Err(format!(
            "{what} must say `additionalProperties: false`: the typed input denies unknown fields"
        ));
    }
    Ok(())
}

fn doc_path<'a>(json: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(json, |j, key| j.get(key))
}

fn member<'a>(json: &'a Json, key: &str, what: &str) -> Result<&'a Json, String> {
    json.get(key)
        .ok_or_else(|| format!("{what} has no `{key}`"))
}

fn string<'a>(json: &'a Json, key: &str, what: &str) -> Result<&'a str, String> {
    member(json, key, what)?
        .as_str()
        .ok_or_else(|| format!("{what}.{key} is not a string"))
}

fn string_list(json: &Json, key: &str, what: &str) -> Result<Vec<String>, String> {
    member(json, key, what)?
        .as_array()
        .ok_or_else(|| format!("{what}.{key} is not an array"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{what}.{key} holds a value that is not a string"))
        })
        .collect()
}

fn number(json: &Json) -> Result<f64, String> {
    json.as_number()
        .and_then(serde_json::Number::as_f64)
        .ok_or_else(|| "a limit is not a number".to_owned())
}

fn opt_u64(json: &Json, key: &str) -> Result<Option<u64>, String> {
    json.get(key)
        .map(|v| {
            v.as_number()
                .and_then(serde_json::Number::as_u64)
                .ok_or_else(|| format!("`{key}` is not a whole number"))
        })
        .transpose()
}

fn opt_i64(json: &Json, key: &str) -> Result<Option<i64>, String> {
    json.get(key)
        .map(|v| {
            v.as_number()
                .and_then(serde_json::Number::as_i64)
                .ok_or_else(|| format!("`{key}` is not a whole number"))
        })
        .transpose()
}

#[derive(Clone, Copy)]
enum IdentCase {
    Snake,
    Camel,
}

fn check_ident(name: &str, what: &str, case: IdentCase) -> Result<(), String> {
    let first_ok = match case {
        IdentCase::Snake => name.starts_with(|c: char| c.is_ascii_lowercase()),
        IdentCase::Camel => name.starts_with(|c: char| c.is_ascii_uppercase()),
    };
    let rest_ok = name.chars().all(|c| match case {
        IdentCase::Snake => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
        IdentCase::Camel => c.is_ascii_alphanumeric(),
    });
    if first_ok && rest_ok && syn::parse_str::<syn::Ident>(name).is_ok() {
        Ok(())
    } else {
        Err(format!("{what} `{name}` is not a usable Rust name"))
    }
}
