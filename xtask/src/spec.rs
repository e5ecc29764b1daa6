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
pub const UNIFORM_FIELDS: [&str; 11] = [
    "prompt",
    "image",
    "end_image",
    "reference_images",
    "video",
    "audio",
    "duration_secs",
    "aspect_ratio",
    "resolution",
    "seed",
    "negative_prompt",
];

/// The uniform fields that carry media: a URL (or a local file, uploaded on submit).
pub const MEDIA_FIELDS: [&str; 5] = ["image", "end_image", "reference_images", "video", "audio"];

/// What `x-kie-rs.modality` may say, as `kie_core::Modality` spells it.
pub const MODALITIES: [&str; 8] = [
    "text-to-video",
    "image-to-video",
    "video-to-video",
    "reference-to-video",
    "audio-driven",
    "upscale",
    "edit",
    "character",
];

/// What `x-kie-rs.result` may say: the shape of the model's `resultJson`.
pub const RESULTS: [&str; 3] = ["videos", "videos-and-frames", "character"];

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
    /// One of [`MODALITIES`].
    pub modality: String,
    /// One of [`RESULTS`] (`videos` when the document says nothing).
    pub result: String,
    /// How each uniform request field maps, in [`UNIFORM_FIELDS`] order.
    pub uniform: Vec<(String, Target)>,
    /// Whether the request takes a top-level `progressCallBackUrl`.
    pub progress_callback: bool,
    /// The `input` fields in documented order.
    pub fields: Vec<Field>,
}

/// Where one uniform request field goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Sent as is to this input field.
    Param(String),
    /// Sent as item `index` of this list field, which two uniform fields share.
    Item {
        /// The list field.
        param: String,
        /// The position.
        index: usize,
    },
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
    /// For a field that holds file URLs: the types and size its page documents.
    pub file: Option<FileFacts>,
}

/// The accepted types and size of the files a field's URLs point to (`x-kie-rs-file`).
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// MIME types, as the page writes them.
    pub types: Vec<String>,
    /// Most bytes, if the page says.
    pub max_bytes: Option<u64>,
}

/// A field's type and limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A string, with length limits in characters.
    Text {
        /// `minLength`.
        min_chars: Option<u64>,
        /// `maxLength`.
        max_chars: Option<u64>,
    },
    /// A string with `format: uri` and the http(s) pattern.
    Url {
        /// `maxLength`.
        max_chars: Option<u64>,
    },
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
        /// `minItems`.
        min_items: Option<u64>,
        /// `maxItems`.
        max_items: Option<u64>,
    },
    /// An array of http(s) URLs (items with `format: uri` and the pattern).
    UrlList {
        /// `minItems`.
        min_items: Option<u64>,
        /// `maxItems`.
        max_items: Option<u64>,
    },
    /// An array of closed objects, each with these fields.
    Objects {
        /// The fields of each item, in documented order.
        fields: Vec<Field>,
        /// `minItems`.
        min_items: Option<u64>,
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
    let modality = string(ext, "modality", "x-kie-rs")?.to_owned();
    if !MODALITIES.contains(&modality.as_str()) {
        return Err(format!(
            "x-kie-rs.modality `{modality}` is not one of {}",
            MODALITIES.join(", ")
        ));
    }
    let result = match ext.get("result") {
        None => "videos".to_owned(),
        Some(_) => string(ext, "result", "x-kie-rs")?.to_owned(),
    };
    if !RESULTS.contains(&result.as_str()) {
        return Err(format!(
            "x-kie-rs.result `{result}` is not one of {}",
            RESULTS.join(", ")
        ));
    }

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
    let fields = read_fields(input, "input", IdentCase::Snake)?;

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
        result,
        uniform,
        progress_callback,
        fields,
    })
}

/// The fields of a closed object schema (`input`, or the items of an object list) in
/// documented order; `what` names it in messages, `case` is what its field names must be.
fn read_fields(object: &Json, what: &str, case: IdentCase) -> Result<Vec<Field>, String> {
    expect_closed_object(object, what)?;
    // Draft 4 wants a `required` list to name at least one field, so a schema whose
    // fields are all optional has none.
    let required = match object.get("required") {
        None => Vec::new(),
        Some(_) => string_list(object, "required", what)?,
    };
    if object.get("required").is_some() && required.is_empty() {
        return Err(format!(
            "{what}.required is empty: leave it out (JSON Schema draft 4)"
        ));
    }
    let props = member(object, "properties", what)?
        .as_object()
        .ok_or_else(|| format!("{what}.properties is not an object"))?;
    let mut fields = Vec::new();
    for (name, schema) in props {
        check_ident(name, &format!("{what}.{name}"), case)?;
        let field = read_field(name, schema, required.contains(name))
            .map_err(|e| format!("{what}.{name}: {e}"))?;
        fields.push(field);
    }
    for name in &required {
        if !fields.iter().any(|f| &f.name == name) {
            return Err(format!(
                "{what}.required names `{name}`, which has no property"
            ));
        }
    }
    Ok(fields)
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
            let list = matches!(field.kind, Kind::UrlList { .. } | Kind::TextList { .. });
            let single = matches!(field.kind, Kind::Url { .. } | Kind::Text { .. });
            let fits = match name {
                "prompt" | "negative_prompt" => matches!(field.kind, Kind::Text { .. }),
                "image" | "end_image" | "video" | "audio" => single || list,
                "reference_images" => list,
                "aspect_ratio" | "resolution" => {
                    matches!(field.kind, Kind::Choice { .. } | Kind::Text { .. })
                }
                "duration_secs" => matches!(
                    field.kind,
                    Kind::Choice { .. } | Kind::Integer { .. } | Kind::Number { .. }
                ),
                "seed" => matches!(field.kind, Kind::Integer { .. } | Kind::Number { .. }),
                _ => false,
            };
            if !fits {
                return Err(format!(
                    "`{name}` cannot be sent as `{param}`: the kinds differ"
                ));
            }
            match (entry.get("values"), entry.get("item")) {
                (None, None) => {
                    if keys != ["param"] {
                        return Err(format!("`{name}` has members other than `param`"));
                    }
                    Target::Param(param)
                }
                (None, Some(index)) => {
                    if !MEDIA_FIELDS.contains(&name) || name == "reference_images" || !list {
                        return Err(format!(
                            "`{name}.item`: only a single media field goes at a place in a list field"
                        ));
                    }
                    let index = index
                        .as_number()
                        .and_then(serde_json::Number::as_u64)
                        .and_then(|i| usize::try_from(i).ok())
                        .ok_or_else(|| format!("`{name}.item` is not a whole number"))?;
                    Target::Item { param, index }
                }
                (Some(_), Some(_)) => {
                    return Err(format!("`{name}`: `values` and `item` do not go together"));
                }
                (Some(values), None) => {
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
    let mut params: Vec<(&str, Option<usize>)> = out
        .iter()
        .filter_map(|(_, t)| match t {
            Target::Param(p) | Target::Translated { param: p, .. } => Some((p.as_str(), None)),
            Target::Item { param, index } => Some((param.as_str(), Some(*index))),
            Target::Unsupported(_) => None,
        })
        .collect();
    params.sort_unstable();
    for pair in params.windows(2) {
        let ((a, a_index), (b, b_index)) = (pair[0], pair[1]);
        if a == b && (a_index.is_none() || b_index.is_none() || a_index == b_index) {
            return Err(format!(
                "two uniform fields map to `{a}` (two items of one list need different `item`s)"
            ));
        }
    }
    let mut shared: Vec<(&str, usize)> = params
        .iter()
        .filter_map(|(p, i)| Some((*p, (*i)?)))
        .collect();
    shared.sort_unstable();
    for (param, index) in &shared {
        let before = shared.iter().filter(|(p, _)| p == param).count();
        if *index >= before {
            return Err(format!(
                "the items of `{param}` must be numbered 0, 1, ... without a gap"
            ));
        }
    }
    Ok(out)
}

/// Keywords that only annotate a field; everything else must be enforced. `deprecated`
/// (seedance 2's `return_last_frame`) changes nothing a request may send.
const ANNOTATIONS: [&str; 4] = ["description", "example", "default", "deprecated"];

/// Reads one field's schema (its name as kie.ai spells it).
///
/// # Errors
///
/// A keyword or a kind the generator would not enforce, or a default that breaks the
/// field's own rule.
pub fn read_field(name: &str, schema: &Json, required: bool) -> Result<Field, String> {
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
            check_url_format(schema)?;
            (
                Kind::Url {
                    max_chars: opt_u64(schema, "maxLength")?,
                },
                &["type", "format", "pattern", "maxLength", FILE],
            )
        }
        "string" => (
            Kind::Text {
                min_chars: opt_u64(schema, "minLength")?,
                max_chars: opt_u64(schema, "maxLength")?,
            },
            &["type", "minLength", "maxLength", FILE],
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
            let min_items = opt_u64(schema, "minItems")?;
            let max_items = opt_u64(schema, "maxItems")?;
            let keywords: &[&str] = &["type", "items", "minItems", "maxItems", FILE];
            match items.get("type").and_then(Json::as_str) {
                Some("object") => {
                    let fields = read_fields(items, "items", IdentCase::Field)?;
                    if let Some(f) = fields
                        .iter()
                        .find(|f| matches!(f.kind, Kind::Choice { .. } | Kind::Objects { .. }))
                    {
                        return Err(format!(
                            "items.{}: enums and lists of objects inside a list of objects are not supported",
                            f.name
                        ));
                    }
                    (
                        Kind::Objects {
                            fields,
                            min_items,
                            max_items,
                        },
                        &["type", "items", "minItems", "maxItems"],
                    )
                }
                Some("string") if items.get("format").is_some() => {
                    check_url_format(items).map_err(|e| format!("items: {e}"))?;
                    if let Some((key, _)) = items
                        .as_object()
                        .unwrap_or_default()
                        .iter()
                        .find(|(k, _)| !["type", "format", "pattern"].contains(&k.as_str()))
                    {
                        return Err(format!("items: keyword `{key}` is not supported"));
                    }
                    (
                        Kind::UrlList {
                            min_items,
                            max_items,
                        },
                        keywords,
                    )
                }
                Some("string") if items.as_object().map(|m| m.len()) == Some(1) => (
                    Kind::TextList {
                        min_items,
                        max_items,
                    },
                    keywords,
                ),
                _ => {
                    return Err(
                        "arrays must have items of `type: string` (with `format: uri` for URLs) or closed objects"
                            .into(),
                    );
                }
            }
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
    let file = schema.get(FILE).map(read_file_facts).transpose()?;
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
        file,
    })
}

/// The keyword that records a file field's accepted types and size.
pub const FILE: &str = "x-kie-rs-file";

fn read_file_facts(json: &Json) -> Result<FileFacts, String> {
    let members = json
        .as_object()
        .ok_or_else(|| format!("`{FILE}` is not an object"))?;
    if let Some((key, _)) = members
        .iter()
        .find(|(k, _)| !["types", "max-bytes"].contains(&k.as_str()))
    {
        return Err(format!("`{FILE}.{key}` is not supported"));
    }
    let types = string_list(json, "types", FILE)?;
    if types.is_empty() || types.iter().any(|t| !t.contains('/')) {
        return Err(format!("`{FILE}.types` must list MIME types"));
    }
    Ok(FileFacts {
        types,
        max_bytes: opt_u64(json, "max-bytes")?,
    })
}

/// A URL string's `format` and `pattern` are exactly the ones the SDK enforces.
fn check_url_format(schema: &Json) -> Result<(), String> {
    let format = string(schema, "format", "the field")?;
    let pattern = schema.get("pattern").and_then(Json::as_str);
    if format != "uri" || pattern != Some(HTTP_URL_PATTERN) {
        return Err(format!(
            "a string with a format must be `format: uri` with `pattern: {HTTP_URL_PATTERN}`"
        ));
    }
    Ok(())
}

/// Why `value` does not fit `kind`, if it does not (limits included).
pub fn value_problem(kind: &Kind, value: &serde_json::Value) -> Option<String> {
    match kind {
        Kind::Text {
            min_chars,
            max_chars,
        } => match value.as_str() {
            None => Some("is not a string".into()),
            Some(s) if max_chars.is_some_and(|m| s.chars().count() as u64 > m) => {
                Some("is too long".into())
            }
            Some(s) if min_chars.is_some_and(|m| (s.chars().count() as u64) < m) => {
                Some("is too short".into())
            }
            Some(_) => None,
        },
        Kind::Url { .. } => value
            .as_str()
            .is_none_or(|s| !is_http(s))
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
        Kind::TextList {
            min_items,
            max_items,
        }
        | Kind::UrlList {
            min_items,
            max_items,
        } => match value.as_array() {
            Some(items)
                if items.iter().all(|item| match (kind, item.as_str()) {
                    (Kind::UrlList { .. }, Some(s)) => is_http(s),
                    (_, s) => s.is_some(),
                }) =>
            {
                count_problem(items.len(), *min_items, *max_items)
            }
            _ => Some("is not a list of strings (URLs for a URL list)".into()),
        },
        Kind::Objects {
            fields,
            min_items,
            max_items,
        } => match value.as_array() {
            Some(items) => items
                .iter()
                .find_map(|item| {
                    let object = item.as_object()?;
                    object
                        .iter()
                        .find_map(|(k, v)| match fields.iter().find(|f| &f.name == k) {
                            None => Some(format!("has an item with an unknown field `{k}`")),
                            Some(f) => value_problem(&f.kind, v).map(|p| format!("`{k}` {p}")),
                        })
                        .or_else(|| {
                            fields
                                .iter()
                                .find(|f| f.required && !object.contains_key(&f.name))
                                .map(|f| format!("has an item without `{}`", f.name))
                        })
                })
                .or_else(|| {
                    items
                        .iter()
                        .any(|i| !i.is_object())
                        .then(|| "is not a list of objects".into())
                })
                .or_else(|| count_problem(items.len(), *min_items, *max_items)),
            None => Some("is not a list of objects".into()),
        },
    }
}

fn is_http(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn count_problem(n: usize, min: Option<u64>, max: Option<u64>) -> Option<String> {
    if max.is_some_and(|m| n as u64 > m) {
        Some("has too many items".into())
    } else if min.is_some_and(|m| (n as u64) < m) {
        Some("has too few items".into())
    } else {
        None
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
    /// A field of an object in a list: any ASCII identifier (`Scene`); the generated
    /// Rust field is its snake case, renamed back for serde.
    Field,
}

fn check_ident(name: &str, what: &str, case: IdentCase) -> Result<(), String> {
    let first_ok = match case {
        IdentCase::Snake => name.starts_with(|c: char| c.is_ascii_lowercase()),
        IdentCase::Camel => name.starts_with(|c: char| c.is_ascii_uppercase()),
        IdentCase::Field => name.starts_with(|c: char| c.is_ascii_alphabetic()),
    };
    let rest_ok = name.chars().all(|c| match case {
        IdentCase::Snake => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
        IdentCase::Camel => c.is_ascii_alphanumeric(),
        IdentCase::Field => c.is_ascii_alphanumeric() || c == '_',
    });
    if first_ok && rest_ok && syn::parse_str::<syn::Ident>(name).is_ok() {
        Ok(())
    } else {
        Err(format!("{what} `{name}` is not a usable Rust name"))
    }
}
