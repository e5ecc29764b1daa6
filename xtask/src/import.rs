//! `cargo xtask import`: `spec/` documents from kie.ai's own docs pages.
//!
//! Each Market model page (`<docs>/market/<provider>/<page>.md`) ends with its OpenAPI 3
//! document in YAML. The importer takes the facts from it (the model id, every `input`
//! field with its type, enum, default, limits and required flag, the callback URLs, the
//! request example and the task id of the response example) and writes them as a
//! `spec/` document in the shape the generator reads ([`crate::spec`]). What is a
//! judgement and not a fact comes from the hand-kept table [`TABLE`]: per page, the
//! model's crate, module, type, provider, modality, title, one-line summary and
//! `uniform` mapping (`[model."<page>"]`), and the corrections of pages whose facts are
//! wrong (`[defect."<page>"]`).
//!
//! Our own prose survives a re-import: an `input` field that the document already has
//! keeps its description and its enum's Rust variant names; a new field gets kie.ai's
//! description. So the output depends only on the page, the table and the previous
//! document, and a second run writes the same bytes.
//!
//! kie.ai's docs have defects. The importer corrects the mechanical ones itself (a
//! field name with surrounding spaces, a required field that documents a default, an
//! example value of the wrong type or of a field the schema lacks) and takes the rest
//! from the table (a wrong `model` enum, an example that is not JSON); it refuses a
//! page whose defect it cannot settle, and it never corrects silently: each correction
//! is printed and recorded in the document's `x-kie-rs.docs-defects`.
//!
//! `--check` imports every page the table names (or the pages given) in memory and
//! reports where the facts differ from `spec/`, which is how a change on kie.ai's side
//! shows up.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::json::Json;
use crate::spec::{self, CREATE_TASK, Field, HTTP_URL_PATTERN, Kind, ModelSpec, UNIFORM_FIELDS};

/// The hand-kept table, relative to the workspace root.
pub const TABLE: &str = "spec/import.toml";

/// Where kie.ai's docs folder is looked for, relative to the workspace root, when
/// `--docs` is not given: the shared folder beside the checkout.
pub const DEFAULT_DOCS: &str = "../shared/kie-docs";

/// The public address of a page is this plus its path under `market/`, without `.md`.
pub const PAGE_URL: &str = "https://docs.kie.ai/market/";

/// The parts of every document that do not come from a page: servers, security, the
/// 200 response (its task id example is the page's) and the shared components.
const TEMPLATE: &str = include_str!("import-template.json");

/// `callBackUrl`'s description, the same in every document.
const CALLBACK_DESCRIPTION: &str = "Callback URL that receives a notification when the task finishes. Optional; recommended in production. When the task completes, kie.ai POSTs the task status and results (the generated content URLs and task information) as JSON to this URL, so the endpoint must accept POST requests with a JSON body. Alternatively, poll the task-details endpoint (spec/common.json). kie-rs asserts `format: uri` and the `pattern` (an absolute http or https URL with a host), the same rule the SDK's validate() applies.";

/// `progressCallBackUrl`'s description, the same in every document that has it.
const PROGRESS_DESCRIPTION: &str = "URL that receives progress POSTs (state and percent) while the task runs, signed like `callBackUrl`. Optional. kie-rs asserts `format: uri` and the `pattern` (an absolute http or https URL with a host), the same rule the SDK's validate() applies.";

/// What kie-rs adds to the description of a URL field.
const URL_ASSERTION: &str = "kie-rs asserts `format: uri` and the `pattern` (an absolute http or https URL with a host), the same rule the SDK's validate() applies.";

/// The field keywords the importer writes itself, in the order documents list them.
/// Any other keyword of the page (except kie.ai's `x-apidog-*` annotations) is copied
/// after these, so that the generator refuses what it would not enforce.
const FACT_ORDER: [&str; 12] = [
    "type",
    "format",
    "pattern",
    "enum",
    "items",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "multipleOf",
];

/// An object's members, in document order.
type Members = Vec<(String, Json)>;

/// The hand-kept table ([`TABLE`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The models in `spec/`, by page (its path under `market/`, without `.md`).
    #[serde(default)]
    pub model: BTreeMap<String, Row>,
    /// Corrections of pages' defects that need a judgement, by page.
    #[serde(default)]
    pub defect: BTreeMap<String, Correction>,
}

/// What the table says about one model: everything in `x-kie-rs` and our own title and
/// summary.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// `info.title`.
    pub title: String,
    /// The first paragraph of `info.description`: one line about the model.
    pub summary: String,
    /// `x-kie-rs.crate`.
    #[serde(rename = "crate")]
    pub krate: String,
    /// `x-kie-rs.module`.
    pub module: String,
    /// `x-kie-rs.type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `x-kie-rs.provider`.
    pub provider: String,
    /// `x-kie-rs.modality`.
    pub modality: String,
    /// `x-kie-rs.result`, when not `videos`.
    pub result: Option<String>,
    /// `x-kie-rs.uniform`, as written in the table.
    pub uniform: Json,
    /// File facts of fields whose page states them in words the importer does not read,
    /// by field name.
    #[serde(default)]
    pub files: BTreeMap<String, FileRow>,
}

/// The accepted types and size of a field's files, as the table states them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRow {
    /// MIME types.
    pub types: Vec<String>,
    /// Most megabytes (MiB, as kie.ai's pages count them), if the page says.
    pub max_mb: Option<f64>,
}

/// A correction of one page, with the reason, which goes into the document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// Why, in a few words: the note recorded in `x-kie-rs.docs-defects`.
    pub why: String,
    /// The model id the page is about, when its `model` enum names another.
    pub model_id: Option<String>,
    /// The request example as JSON text, when the page's is not valid JSON.
    pub example: Option<String>,
}

impl Table {
    /// Reads `<root>/`[`TABLE`].
    ///
    /// # Errors
    ///
    /// The file cannot be read, or is not a table of this shape.
    pub fn read(root: &Path) -> Result<Table, String> {
        let path = root.join(TABLE);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{TABLE}: {e}"))
    }
}

/// A docs page, read.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its path under `market/`, without `.md` (`kling/v2-1-master-text-to-video`).
    pub name: String,
    /// The OpenAPI document at its end.
    pub openapi: Json,
}

impl Page {
    /// The page's public address.
    pub fn url(&self) -> String {
        format!("{PAGE_URL}{}", self.name)
    }
}

/// Reads a page: the last fenced `yaml` block of the file.
///
/// # Errors
///
/// The file cannot be read, is not under a `market/` folder (its address could not be
/// told), has no YAML block, or the YAML does not parse.
pub fn read_page(path: &Path) -> Result<Page, String> {
    let shown = path.display();
    let text = fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let parts: Vec<String> = path
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let market = parts.iter().rposition(|p| p == "market").ok_or_else(|| {
        format!("{shown}: not under a `market/` folder, so its docs address is unknown")
    })?;
    let name = parts[market + 1..].join("/");
    let name = name
        .strip_suffix(".md")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{shown}: not a `.md` page"))?
        .to_owned();
    let start = text
        .rfind("```yaml")
        .ok_or_else(|| format!("{shown}: no ```yaml block with the page's OpenAPI document"))?;
    let yaml = &text[start + "```yaml".len()..];
    let yaml = &yaml[..yaml.find("\n```").unwrap_or(yaml.len())];
    let openapi: Json =
        serde_yaml_ng::from_str(yaml).map_err(|e| format!("{shown}: the OpenAPI YAML: {e}"))?;
    Ok(Page { name, openapi })
}

/// One page imported.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model id.
    pub id: String,
    /// The document's file name in `spec/`.
    pub file: String,
    /// The document.
    pub document: Json,
    /// Each correction applied to the page's facts, as recorded in the document.
    pub defects: Vec<String>,
    /// The table row drafted for a page the table does not name (with `draft`), as TOML
    /// to review and paste into the table.
    pub drafted: Option<String>,
}

/// Imports one page. `previous` is the document already in `spec/` for the model, whose
/// descriptions and variant names are kept.
///
/// # Errors
///
/// A message naming the page and the member that is missing or wrong, a defect the
/// table must settle, or (without `draft`) no table row for the page: the message then
/// holds a drafted row.
pub fn import(
    page: &Page,
    table: &Table,
    previous: Option<&Json>,
    draft: bool,
) -> Result<Imported, String> {
    import_inner(page, table, previous, draft).map_err(|e| format!("{}: {e}", page.name))
}

fn import_inner(
    page: &Page,
    table: &Table,
    previous: Option<&Json>,
    draft: bool,
) -> Result<Imported, String> {
    let correction = table.defect.get(&page.name);
    let mut defects = Vec::new();
    let post = path(&page.openapi, &["paths", CREATE_TASK, "post"])
        .ok_or_else(|| format!("no `post` operation on `{CREATE_TASK}`"))?;
    let body = path(post, &["requestBody", "content", "application/json"])
        .ok_or("no requestBody.content.application/json")?;
    let schema = body.get("schema").ok_or("the request body has no schema")?;
    let top = schema
        .get("properties")
        .and_then(Json::as_object)
        .ok_or("the request body has no properties")?;

    let id = model_id(schema, correction, &mut defects)?;
    let input = path(schema, &["properties", "input"]).ok_or("no `input` property")?;
    let previous_input = previous.and_then(|p| {
        path(
            p,
            &[
                "paths",
                CREATE_TASK,
                "post",
                "requestBody",
                "content",
                "application/json",
                "schema",
                "properties",
                "input",
                "properties",
            ],
        )
    });
    let files = table.model.get(&page.name).map(|row| &row.files);
    let (fields, required) = input_fields(input, previous_input, files, &mut defects)?;

    let mut properties = Vec::new();
    for (name, prop) in top {
        let value = match name.as_str() {
            "model" => model_property(&id),
            "input" => closed_object(
                vec![("description", s("Input parameters of the generation task."))],
                &required,
                fields.clone(),
            ),
            "callBackUrl" => url_property(prop, CALLBACK_DESCRIPTION),
            "progressCallBackUrl" => url_property(prop, PROGRESS_DESCRIPTION),
            _ => prop.clone(),
        };
        properties.push((name.clone(), value));
    }

    let example = request_example(body, &id, &fields, correction, &mut defects)?;
    // The page's example as published, kept when the document's differs from it, so
    // that the emulator can be shown to take what kie.ai's docs tell users to send.
    let published = match body.get("example") {
        Some(Json::String(text)) => Json::parse(text).ok(),
        other => other.cloned(),
    }
    .filter(|published| Some(published) != example.as_ref());
    let task_id = path(
        post,
        &["responses", "200", "content", "application/json", "example"],
    )
    .and_then(|e| path(e, &["data", "taskId"]))
    .cloned();

    let (row, drafted) = match table.model.get(&page.name) {
        Some(row) => (row.clone(), None),
        None => {
            let row = draft_row(page, &id, &fields, post);
            let text = row_toml(&page.name, &row);
            if !draft {
                return Err(format!(
                    "{TABLE} has no row for this page; a draft to review and add:\n{text}"
                ));
            }
            (row, Some(text))
        }
    };
    let examples = Examples {
        request: example,
        published,
        task_id,
    };
    let document = document(page, &id, &row, properties, examples, &defects)?;
    Ok(Imported {
        file: format!("{}.json", id.replace('/', "-")),
        id,
        document,
        defects,
        drafted,
    })
}

/// The model id: the one value of the page's `model` enum, or the table's correction.
fn model_id(
    schema: &Json,
    correction: Option<&Correction>,
    defects: &mut Vec<String>,
) -> Result<String, String> {
    let values = path(schema, &["properties", "model", "enum"])
        .and_then(Json::as_array)
        .ok_or("`model` has no enum")?;
    let [Json::String(page_id)] = values else {
        return Err("`model` must be a one-value enum of a string".into());
    };
    match correction.and_then(|c| c.model_id.as_ref().map(|m| (m, &c.why))) {
        Some((fixed, _)) if fixed == page_id => Err(format!(
            "{TABLE} corrects the model id to `{fixed}`, which the page already says: remove the correction"
        )),
        Some((fixed, why)) => {
            defects.push(format!(
                "the `model` enum names `{page_id}`; the model is `{fixed}`: {why}"
            ));
            Ok(fixed.clone())
        }
        None => Ok(page_id.clone()),
    }
}

/// The `input` fields in the document's form, and the required ones.
fn input_fields(
    input: &Json,
    previous: Option<&Json>,
    files: Option<&BTreeMap<String, FileRow>>,
    defects: &mut Vec<String>,
) -> Result<(Members, Vec<String>), String> {
    let props = input
        .get("properties")
        .and_then(Json::as_object)
        .ok_or("`input` has no properties")?;
    let listed: Vec<String> = match input.get("required") {
        None => Vec::new(),
        Some(list) => list
            .as_array()
            .ok_or("input.required is not a list")?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|r| r.trim().to_owned())
                    .ok_or("input.required holds a value that is not a string")
            })
            .collect::<Result<_, _>>()?,
    };
    let mut fields: Vec<(String, Json)> = Vec::new();
    let mut required = Vec::new();
    for (raw, schema) in props {
        let name = raw.trim().to_owned();
        if name != *raw {
            defects.push(format!(
                "the field name `{raw}` has surrounding spaces; imported as `{name}`"
            ));
        }
        if fields.iter().any(|(n, _)| *n == name) {
            return Err(format!("two `input` fields are named `{name}`"));
        }
        let mut is_required = listed.contains(&name);
        if is_required && schema.get("default").is_some() {
            defects.push(format!(
                "`input.{name}` is listed as required but documents a default; imported as optional (omitted means the default)"
            ));
            is_required = false;
        }
        if is_required {
            required.push(name.clone());
        }
        let file = files.and_then(|f| f.get(&name));
        let field = convert_field(
            &name,
            schema,
            previous.and_then(|p| p.get(&name)),
            file,
            defects,
        )
        .map_err(|e| format!("{raw}: {e}"))?;
        fields.push((name, field));
    }
    for name in &listed {
        if !fields.iter().any(|(n, _)| n == name) {
            return Err(format!(
                "input.required names `{name}`, which has no property"
            ));
        }
    }
    Ok((fields, required))
}

/// One `input` field: the page's facts in the documents' keyword order, our previous
/// description and variant names where there are some.
fn convert_field(
    name: &str,
    page: &Json,
    previous: Option<&Json>,
    file: Option<&FileRow>,
    defects: &mut Vec<String>,
) -> Result<Json, String> {
    let members = page.as_object().ok_or("not an object")?;
    let ty = page.get("type").and_then(Json::as_str).ok_or("no `type`")?;
    let format = page.get("format").and_then(Json::as_str);
    // A string URL: kie.ai marks some `format: uri`, others (`image_url`) only by name.
    let is_url = ty == "string"
        && page.get("enum").is_none()
        && (format == Some("uri") || (format.is_none() && name.ends_with("_url")));
    let items = page.get("items");
    let item_type = items.and_then(|i| i.get("type")).and_then(Json::as_str);
    let url_items = item_type == Some("string")
        && (items.and_then(|i| i.get("format")).and_then(Json::as_str) == Some("uri")
            || name.ends_with("_urls"));
    let page_description = page
        .get("description")
        .and_then(Json::as_str)
        .map(prose)
        .filter(|d| !d.is_empty());

    let mut out: Vec<(String, Json)> = Vec::new();
    for key in FACT_ORDER {
        let value = match key {
            "format" if is_url => Some(s("uri")),
            "pattern" if is_url => Some(s(HTTP_URL_PATTERN)),
            "items" if url_items => Some(object(vec![
                ("type", s("string")),
                ("format", s("uri")),
                ("pattern", s(HTTP_URL_PATTERN)),
            ])),
            "items" if item_type == Some("object") => {
                let items = items.expect("an item type comes from items");
                let previous = previous.and_then(|p| path(p, &["items", "properties"]));
                let (fields, required) = input_fields(items, previous, None, defects)
                    .map_err(|e| format!("items.{e}"))?;
                Some(closed_object(Vec::new(), &required, fields))
            }
            // Only a number has a step: a string whose prose says "Step: 1" (grok's
            // text `duration`) gets none.
            "multipleOf" => page.get(key).cloned().or_else(|| {
                page_description
                    .as_deref()
                    .filter(|_| matches!(ty, "number" | "integer"))
                    .and_then(documented_step)
                    .map(Json::Number)
            }),
            _ => page.get(key).cloned(),
        };
        if let Some(value) = value {
            out.push((key.to_owned(), value));
        }
    }
    if let Some(default) = page.get("default") {
        out.push(("default".into(), default.clone()));
    }
    let takes_files = is_url || url_items || (ty == "string" && page.get("enum").is_none());
    let facts = match file {
        Some(row) => Some(file_facts(&row.types, row.max_mb)),
        None if takes_files => page_description.as_deref().and_then(documented_files),
        None => None,
    };
    if let Some(facts) = facts {
        out.push((spec::FILE.into(), facts));
    }
    if ty == "string"
        && let Some(values) = page.get("enum").and_then(Json::as_array)
    {
        out.push((
            "x-enum-varnames".into(),
            Json::Array(variant_names(name, values, previous)?),
        ));
    }
    for (key, value) in members {
        let handled = FACT_ORDER.contains(&key.as_str())
            || ["default", "description", "example", "examples"].contains(&key.as_str())
            || key.starts_with("x-apidog");
        if !handled {
            out.push((key.clone(), value.clone()));
        }
    }
    let description = match previous.and_then(|p| p.get("description")) {
        Some(kept) => kept.clone(),
        None => {
            let text = page_description
                .unwrap_or_else(|| "(kie.ai's page gives no description.)".to_owned());
            s(&if is_url && format.is_none() {
                format!("{text} The page types it as a plain string; {URL_ASSERTION}")
            } else if is_url {
                format!("{text} {URL_ASSERTION}")
            } else {
                text
            })
        }
    };
    out.push(("description".into(), description));
    if let Some(example) = first_example(page) {
        out.push(("example".into(), example));
    }
    Ok(Json::Object(out))
}

/// The accepted types and size a description states in kie.ai's usual words:
/// "Accepted types: image/jpeg, image/png; Max size: 10.0MB".
fn documented_files(description: &str) -> Option<Json> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("accepted types:")? + "accepted types:".len();
    let list = &description[at..];
    let end = list.find([';', ')']).unwrap_or(list.len());
    let list = &list[..end];
    let list = &list[..list.find(" - ").unwrap_or(list.len())];
    let types: Vec<String> = list
        .split(',')
        .map(|t| t.trim().trim_matches('`').trim().to_owned())
        .filter(|t| t.contains('/') && !t.contains(' '))
        .collect();
    if types.is_empty() {
        return None;
    }
    let max_mb = lower.find("max size").and_then(|at| {
        let rest = &lower[at..];
        let digits = rest.find(|c: char| c.is_ascii_digit())?;
        let number: String = rest[digits..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let unit = rest[digits + number.len()..].trim_start();
        unit.starts_with("mb")
            .then(|| number.trim_end_matches('.').parse().ok())?
    });
    Some(file_facts(&types, max_mb))
}

/// `x-kie-rs-file` for these types and megabytes (counted as MiB, as the SDK's own
/// 10 MB rule has always been).
fn file_facts(types: &[String], max_mb: Option<f64>) -> Json {
    let mut members = vec![("types", Json::Array(types.iter().map(|t| s(t)).collect()))];
    if let Some(mb) = max_mb {
        members.push((
            "max-bytes",
            Json::Number(((mb * 1024.0 * 1024.0).round() as u64).into()),
        ));
    }
    object(members)
}

/// A step kie.ai documents only in a description, as `(step: 0.1)` or `Step: 1`:
/// apidog has no field for `multipleOf`.
fn documented_step(description: &str) -> Option<serde_json::Number> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("step:")? + "step:".len();
    let number: String = lower[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    match Json::parse(&number).ok()? {
        Json::Number(n) => Some(n),
        _ => None,
    }
}

/// The Rust variant names of an enum: the previous document's for values it had,
/// derived ones for new values.
fn variant_names(
    field: &str,
    values: &[Json],
    previous: Option<&Json>,
) -> Result<Vec<Json>, String> {
    let known: Vec<(&str, &str)> = previous
        .and_then(|p| {
            Some((
                p.get("enum")?.as_array()?,
                p.get("x-enum-varnames")?.as_array()?,
            ))
        })
        .map(|(values, names)| {
            values
                .iter()
                .zip(names)
                .filter_map(|(v, n)| Some((v.as_str()?, n.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for value in values {
        let value = value
            .as_str()
            .ok_or("a string enum holds a value that is not a string")?;
        let name = known
            .iter()
            .find(|(v, _)| *v == value)
            .map_or_else(|| variant_name(field, value), |(_, n)| (*n).to_owned());
        if names.contains(&name) {
            return Err(format!(
                "two enum values would both be the Rust variant `{name}`"
            ));
        }
        names.push(name);
    }
    Ok(names.into_iter().map(Json::String).collect())
}

/// A Rust variant name for an enum value, following the documents' conventions:
/// `16:9` is `Ratio16x9`, `720p` is `P720`, a duration's `5` is `Secs5`.
fn variant_name(field: &str, value: &str) -> String {
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if let Some((w, h)) = value
        .split_once(':')
        .filter(|(w, h)| digits(w) && digits(h))
    {
        return format!("Ratio{w}x{h}");
    }
    if let Some(n) = value.strip_suffix('p').filter(|n| digits(n)) {
        return format!("P{n}");
    }
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        let prefix = if field.contains("duration") {
            "Secs".to_owned()
        } else {
            camel(field)
        };
        return format!("{prefix}{}", camel(&value.replace('.', "p")));
    }
    camel(value)
}

/// `text-to-video` as `TextToVideo`: each alphanumeric run with its first letter upper.
fn camel(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The page's request example, cleaned so that it fits the schema, each change recorded.
fn request_example(
    body: &Json,
    id: &str,
    fields: &[(String, Json)],
    correction: Option<&Correction>,
    defects: &mut Vec<String>,
) -> Result<Option<Json>, String> {
    let fixed = correction.and_then(|c| c.example.as_ref().map(|e| (e, &c.why)));
    let example = match (body.get("example"), fixed) {
        (None, None) => return Ok(None),
        (Some(Json::String(text)), fixed) => match (Json::parse(text), fixed) {
            (Ok(parsed), None) => parsed,
            (Ok(_), Some(_)) => {
                return Err(format!(
                    "{TABLE} replaces the request example, which is valid JSON: remove the correction"
                ));
            }
            (Err(e), Some((fixed, why))) => {
                defects.push(format!(
                    "the request example is not valid JSON ({e}); replaced by the table's: {why}"
                ));
                Json::parse(fixed).map_err(|e| format!("{TABLE}: the corrected example: {e}"))?
            }
            (Err(e), None) => {
                return Err(format!(
                    "the request example is not valid JSON ({e}): give a corrected `example` in {TABLE} [defect.\"<page>\"]"
                ));
            }
        },
        (None, Some((fixed, why))) => {
            defects.push(format!(
                "the page gives no request example; the table's is used: {why}"
            ));
            Json::parse(fixed).map_err(|e| format!("{TABLE}: the example: {e}"))?
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "{TABLE} replaces the request example, which is not JSON text on this page: remove the correction"
            ));
        }
        (Some(example), None) => example.clone(),
    };
    let members = example
        .as_object()
        .ok_or("the request example is not an object")?;
    let mut out = Vec::new();
    for (key, value) in members {
        let value = match key.as_str() {
            "model" if value.as_str() != Some(id) => {
                return Err(format!(
                    "the `model` enum names `{id}` but the request example {}: say which model the page is about with a `model_id` in {TABLE} [defect.\"<page>\"]",
                    value.to_value()
                ));
            }
            "input" => Json::Object(example_input(value, fields, defects)?),
            _ => value.clone(),
        };
        out.push((key.clone(), value));
    }
    Ok(Some(Json::Object(out)))
}

fn example_input(
    input: &Json,
    fields: &[(String, Json)],
    defects: &mut Vec<String>,
) -> Result<Vec<(String, Json)>, String> {
    let members = input
        .as_object()
        .ok_or("the request example's `input` is not an object")?;
    let mut out = Vec::new();
    for (raw, value) in members {
        let name = raw.trim();
        if name != raw {
            defects.push(format!(
                "the request example's field `{raw}` has surrounding spaces; sent as `{name}`"
            ));
        }
        let Some((_, field)) = fields.iter().find(|(n, _)| n == name) else {
            defects.push(format!(
                "the request example sends `{name}`, which the schema does not have; left out"
            ));
            continue;
        };
        let ty = field.get("type").and_then(Json::as_str).unwrap_or_default();
        let value = match fit(ty, value) {
            Some(fitted) if fitted == *value => fitted,
            Some(fitted) => {
                defects.push(format!(
                    "the request example sends `{name}` as {}, where the schema says {ty}; sent as {}",
                    value.to_value(),
                    fitted.to_value()
                ));
                fitted
            }
            None => {
                defects.push(format!(
                    "the request example sends `{name}` as {}, where the schema says {ty}; left out",
                    value.to_value()
                ));
                continue;
            }
        };
        // The value against the field's own rule (an enum, a limit, an http(s) URL): the
        // example is kie.ai's, the rule is the schema's, and the schema is normative.
        let problem = spec::read_field(name, field, false)
            .ok()
            .and_then(|f| spec::value_problem(&f.kind, &value.to_value()));
        if let Some(problem) = problem {
            defects.push(format!(
                "the request example sends `{name}` as {}, which {problem}; left out",
                value.to_value()
            ));
            continue;
        }
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

/// `value` as the schema type `ty`, converting when nothing is lost (`0` for a string is
/// `"0"`, `"6"` for a number is `6`); `None` when it cannot be.
fn fit(ty: &str, value: &Json) -> Option<Json> {
    match (ty, value) {
        ("string", Json::String(_))
        | ("number" | "integer", Json::Number(_))
        | ("boolean", Json::Bool(_))
        | ("array", Json::Array(_))
        | ("object", Json::Object(_)) => Some(value.clone()),
        ("string", Json::Number(n)) => Some(Json::String(n.to_string())),
        ("number" | "integer", Json::String(text)) => match Json::parse(text.trim()) {
            Ok(number @ Json::Number(_)) => Some(number),
            _ => None,
        },
        ("boolean", Json::String(text)) => match text.as_str() {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
        ("string" | "number" | "integer" | "boolean" | "array" | "object", _) => None,
        _ => Some(value.clone()),
    }
}

/// A table row for a page the table does not name: the mechanical choices, to review.
fn draft_row(page: &Page, id: &str, fields: &[(String, Json)], post: &Json) -> Row {
    let (owner, model) = id.split_once('/').unwrap_or(("", id));
    let provider = if !owner.is_empty() {
        owner.to_owned()
    } else {
        let folder = page.name.split_once('/').map_or("", |(f, _)| f);
        let folder = folder.trim_end_matches(|c: char| c.is_ascii_digit());
        if folder.is_empty() {
            id.split('-').next().unwrap_or(id).to_owned()
        } else {
            folder.to_owned()
        }
    };
    let snake = model.replace(['-', '.'], "_");
    let module = if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{}_{snake}", provider.replace('-', "_"))
    } else {
        snake
    };
    let type_name = if owner.is_empty() {
        camel(id)
    } else {
        camel(&provider) + &camel(model)
    };
    let has = |param: &str| fields.iter().any(|(name, _)| name == param);
    let modality = if has("image_url") || has("image_urls") {
        "image-to-video"
    } else if has("video_url") || has("video_urls") {
        "video-to-video"
    } else {
        "text-to-video"
    };
    // The usual names of each uniform field's parameter, in order of preference.
    let candidates = |uniform: &str| -> &[&str] {
        match uniform {
            "image" => &["image_url", "image_urls", "first_frame_url"],
            "end_image" => &["end_image_url", "tail_image_url", "last_frame_url"],
            "reference_images" => &["reference_image_urls", "reference_image"],
            "video" => &["video_url", "video_urls"],
            "audio" => &["audio_url", "driving_audio_url"],
            "duration_secs" => &["duration"],
            _ => &[],
        }
    };
    let uniform = UNIFORM_FIELDS
        .iter()
        .map(|uniform| {
            let names = candidates(uniform);
            let param = if names.is_empty() {
                Some(*uniform)
            } else {
                names.iter().copied().find(|n| has(n))
            }
            .filter(|param| {
                fields.iter().any(|(name, field)| {
                    name == param
                        && !matches!(
                            field.get("type").and_then(Json::as_str),
                            Some("boolean" | "object")
                        )
                })
            });
            let target = match param {
                Some(param) => ("param", param.to_owned()),
                None => (
                    "unsupported",
                    format!("the model takes no {}", uniform.replace('_', " ")),
                ),
            };
            (
                (*uniform).to_owned(),
                object(vec![(target.0, s(&target.1))]),
            )
        })
        .collect();
    Row {
        title: post
            .get("summary")
            .and_then(Json::as_str)
            .map_or_else(|| id.to_owned(), prose),
        summary: format!("Generates a video with kie.ai's `{id}` model."),
        krate: format!("kie-{provider}"),
        module,
        type_name,
        provider,
        modality: modality.to_owned(),
        result: None,
        uniform: Json::Object(uniform),
        files: BTreeMap::new(),
    }
}

/// A row as the table writes it.
pub fn row_toml(page: &str, row: &Row) -> String {
    let q = |t: &str| serde_json::to_string(t).expect("a string always serializes");
    let mut text = format!("[model.{}]\n", q(page));
    for (key, value) in [
        ("title", &row.title),
        ("summary", &row.summary),
        ("crate", &row.krate),
        ("module", &row.module),
        ("type", &row.type_name),
        ("provider", &row.provider),
        ("modality", &row.modality),
    ] {
        text += &format!("{key} = {}\n", q(value));
    }
    if let Some(result) = &row.result {
        text += &format!("result = {}\n", q(result));
    }
    for (field, target) in row.uniform.as_object().unwrap_or_default() {
        text += &format!("uniform.{field} = {}\n", inline_toml(target));
    }
    text
}

/// A JSON value (strings and objects of them) as a TOML inline value.
fn inline_toml(value: &Json) -> String {
    match value {
        Json::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| {
                    let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        k.clone()
                    } else {
                        serde_json::to_string(k).expect("a string always serializes")
                    };
                    format!("{key} = {}", inline_toml(v))
                })
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        other => serde_json::to_string(other).expect("a Json always serializes"),
    }
}

/// A page's examples, as the document records them.
struct Examples {
    /// The request example, corrected where the page's breaks its own schema.
    request: Option<Json>,
    /// The page's request example as published, when it differs from `request`.
    published: Option<Json>,
    /// The task id of the page's answer example.
    task_id: Option<Json>,
}

fn document(
    page: &Page,
    id: &str,
    row: &Row,
    properties: Vec<(String, Json)>,
    examples: Examples,
    defects: &[String],
) -> Result<Json, String> {
    let Examples {
        request: example,
        published,
        task_id,
    } = examples;
    let template = Json::parse(TEMPLATE).expect("the import template is valid JSON");
    let part = |key: &str| template.get(key).cloned().expect("the template has it");
    let mut ext = vec![
        ("crate", s(&row.krate)),
        ("module", s(&row.module)),
        ("type", s(&row.type_name)),
        ("provider", s(&row.provider)),
        ("modality", s(&row.modality)),
    ];
    if let Some(result) = &row.result {
        ext.push(("result", s(result)));
    }
    ext.push(("uniform", row.uniform.clone()));
    if !defects.is_empty() {
        ext.push((
            "docs-defects",
            Json::Array(defects.iter().map(|d| s(d)).collect()),
        ));
    }
    if let Some(published) = published {
        ext.push(("page-example", published));
    }
    let mut content = vec![(
        "schema",
        object(vec![
            ("type", s("object")),
            ("required", Json::Array(vec![s("model"), s("input")])),
            ("additionalProperties", Json::Bool(false)),
            ("properties", Json::Object(properties)),
        ]),
    )];
    if let Some(example) = example {
        content.push(("example", example));
    }
    let mut responses = part("responses");
    if let Some(task_id) = task_id {
        let json = responses
            .get_mut("200")
            .and_then(|r| r.get_mut("content"))
            .and_then(|c| c.get_mut("application/json"))
            .expect("the template has the 200 response");
        json.get_mut("schema")
            .and_then(|s| s.get_mut("allOf"))
            .and_then(|a| match a {
                Json::Array(items) => items.get_mut(1),
                _ => None,
            })
            .and_then(|o| o.get_mut("properties"))
            .and_then(|p| p.get_mut("data"))
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut("taskId"))
            .expect("the template has data.taskId")
            .push("example", task_id.clone());
        json.push(
            "example",
            object(vec![
                ("code", Json::Number(200.into())),
                ("msg", s("success")),
                ("data", object(vec![("taskId", task_id)])),
            ]),
        );
    }
    let description = format!(
        "{}\n\nSource: kie.ai's model page, <{}>. kie-rs choice: `additionalProperties` is false here and in `input`, so the emulator rejects a misspelt or undocumented field (whether the live API refuses or ignores one is not recorded; the emulator's `ignore_unknown_input_fields` accepts unknown input fields); the generated typed inputs deny unknown fields too.",
        row.summary,
        page.url()
    );
    if row.summary.contains("\n\n") {
        return Err(format!("{TABLE}: the summary must be one paragraph"));
    }
    Ok(object(vec![
        ("openapi", s("3.0.0")),
        (
            "info",
            object(vec![
                ("title", s(&row.title)),
                ("description", s(&description)),
                ("version", s("1.0.0")),
            ]),
        ),
        ("servers", part("servers")),
        ("security", part("security")),
        ("x-kie-rs", object(ext)),
        (
            "paths",
            object(vec![(
                CREATE_TASK,
                object(vec![(
                    "post",
                    object(vec![
                        ("operationId", s(&id.replace('/', "-"))),
                        ("summary", s(&row.title)),
                        (
                            "description",
                            s(&format!(
                                "Creates a `{id}` generation task. A 200 means the task was accepted, not finished."
                            )),
                        ),
                        (
                            "requestBody",
                            object(vec![
                                ("required", Json::Bool(true)),
                                (
                                    "content",
                                    object(vec![("application/json", object(content))]),
                                ),
                            ]),
                        ),
                        ("responses", responses),
                    ]),
                )]),
            )]),
        ),
        ("components", part("components")),
    ]))
}

/// An object schema that refuses unknown members. `required` is left out when empty:
/// JSON Schema draft 4 (which the emulator's validator reads these documents as) wants
/// at least one name in it.
fn closed_object(annotations: Vec<(&str, Json)>, required: &[String], fields: Members) -> Json {
    let mut members = vec![("type", s("object"))];
    members.extend(annotations);
    if !required.is_empty() {
        members.push((
            "required",
            Json::Array(required.iter().map(|r| s(r)).collect()),
        ));
    }
    members.push(("additionalProperties", Json::Bool(false)));
    members.push(("properties", Json::Object(fields)));
    object(members)
}

fn model_property(id: &str) -> Json {
    object(vec![
        ("type", s("string")),
        ("enum", Json::Array(vec![s(id)])),
        ("default", s(id)),
        (
            "description",
            s(&format!(
                "Model name for the task. Required; this endpoint must use `{id}`."
            )),
        ),
        ("example", s(id)),
    ])
}

fn url_property(page: &Json, description: &str) -> Json {
    let mut members = vec![
        ("type", s("string")),
        ("format", s("uri")),
        ("pattern", s(HTTP_URL_PATTERN)),
        ("description", s(description)),
    ];
    if let Some(example) = first_example(page) {
        members.push(("example", example));
    }
    object(members)
}

/// A schema's example: OpenAPI 3.1's `examples` list (as kie.ai writes it) or 3.0's
/// `example`.
fn first_example(schema: &Json) -> Option<Json> {
    schema
        .get("examples")
        .and_then(Json::as_array)
        .and_then(|e| e.first())
        .or_else(|| schema.get("example"))
        .cloned()
}

/// kie.ai's prose on one line: its YAML folding leaves line breaks and blank lines.
fn prose(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn s(text: &str) -> Json {
    Json::String(text.to_owned())
}

fn object(members: Vec<(&str, Json)>) -> Json {
    Json::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn path<'a>(json: &'a Json, keys: &[&str]) -> Option<&'a Json> {
    keys.iter().try_fold(json, |j, key| j.get(key))
}

/// What `cargo xtask import` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The pages to import (or, with `check`, to check; then empty means every page the
    /// table names, in the docs folder).
    pub pages: Vec<PathBuf>,
    /// Compare instead of writing.
    pub check: bool,
    /// Write the documents here instead of `<root>/spec` (and keep the descriptions of
    /// the documents found here).
    pub out: Option<PathBuf>,
    /// kie.ai's docs folder; [`DEFAULT_DOCS`] under the root when not given.
    pub docs: Option<PathBuf>,
    /// Import pages the table does not name, with a drafted row.
    pub draft: bool,
}

/// What a run did: one line per document written or unchanged, per correction, per
/// drift and per failed page; `ok` is false when a page failed or drifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The report, in page order.
    pub lines: Vec<String>,
    /// Whether every page imported (or, with `check`, matched `spec/`).
    pub ok: bool,
}

/// Runs `cargo xtask import` on the workspace at `root`.
///
/// # Errors
///
/// The table cannot be read, or no page was given to import. A page that fails is not
/// an error here: it is reported in the [`Outcome`], after the other pages ran.
pub fn run(root: &Path, options: &Options) -> Result<Outcome, String> {
    let table = Table::read(root)?;
    let mut pages = options.pages.clone();
    if pages.is_empty() {
        if !options.check {
            return Err("import: name the pages to import".into());
        }
        let docs = options
            .docs
            .clone()
            .unwrap_or_else(|| root.join(DEFAULT_DOCS));
        if !docs.is_dir() {
            return Ok(Outcome {
                lines: vec![format!(
                    "import --check: skipped: no kie.ai docs folder at {}",
                    docs.display()
                )],
                ok: true,
            });
        }
        pages = table
            .model
            .keys()
            .map(|page| docs.join("market").join(format!("{page}.md")))
            .collect();
    }
    let out_dir = options.out.clone().unwrap_or_else(|| root.join("spec"));
    let shown = |file: &str| match &options.out {
        Some(dir) => dir.join(file).display().to_string(),
        None => format!("spec/{file}"),
    };
    let mut outcome = Outcome {
        lines: Vec::new(),
        ok: true,
    };
    let mut written: Vec<String> = Vec::new();
    for page_path in &pages {
        let result = read_page(page_path).and_then(|page| {
            let head = import(&page, &table, None, true)?;
            let target = out_dir.join(&head.file);
            let previous = match fs::read_to_string(&target) {
                Ok(text) => {
                    Some(Json::parse(&text).map_err(|e| format!("{}: {e}", shown(&head.file)))?)
                }
                Err(_) => None,
            };
            let imported = import(&page, &table, previous.as_ref(), options.draft)?;
            Ok((page, imported, previous))
        });
        let (page, imported, previous) = match result {
            Ok(done) => done,
            Err(e) => {
                outcome.ok = false;
                outcome.lines.push(format!("error: {e}"));
                continue;
            }
        };
        for defect in &imported.defects {
            outcome
                .lines
                .push(format!("{}: docs defect: {defect}", page.name));
        }
        if let Some(row) = &imported.drafted {
            outcome.lines.push(format!(
                "{}: no row in {TABLE}; drafted (review it, then add it):\n{row}",
                page.name
            ));
        }
        let file = shown(&imported.file);
        let model = match spec::read_model(&file, &imported.document) {
            Ok(model) => model,
            Err(e) => {
                outcome.ok = false;
                outcome.lines.push(format!(
                    "error: {}: parsed, but codegen would refuse the document: {e}",
                    page.name
                ));
                continue;
            }
        };
        if written.contains(&imported.file) {
            outcome.ok = false;
            outcome.lines.push(format!(
                "error: {}: a second page imports to {file}",
                page.name
            ));
            continue;
        }
        written.push(imported.file.clone());
        let text = imported.document.to_pretty();
        if options.check {
            let drift = match &previous {
                None => vec![format!("no {file} for `{}`", imported.id)],
                Some(previous) => match spec::read_model(&file, previous) {
                    Ok(current) => drift(&current, &model),
                    Err(e) => vec![format!("{file} does not read: {e}")],
                },
            };
            if drift.is_empty() {
                outcome
                    .lines
                    .push(format!("{}: {file} matches the page", page.name));
            } else {
                outcome.ok = false;
                for d in drift {
                    outcome.lines.push(format!("drift: {}: {d}", page.name));
                }
            }
        } else if previous.map(|p| p.to_pretty()).as_deref() == Some(text.as_str())
            && fs::read_to_string(out_dir.join(&imported.file))
                .ok()
                .as_deref()
                == Some(text.as_str())
        {
            outcome
                .lines
                .push(format!("{}: {file} unchanged", page.name));
        } else {
            fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
            fs::write(out_dir.join(&imported.file), &text).map_err(|e| format!("{file}: {e}"))?;
            outcome.lines.push(format!("{}: wrote {file}", page.name));
        }
    }
    Ok(outcome)
}

/// The facts in which `page` differs from `spec` (the document in `spec/`), one line
/// each; descriptions, examples and variant names are ours and not compared.
pub fn drift(spec: &ModelSpec, page: &ModelSpec) -> Vec<String> {
    let mut out = Vec::new();
    if spec.id != page.id {
        out.push(format!(
            "model id: `{}` in spec/, `{}` on the page",
            spec.id, page.id
        ));
    }
    if spec.progress_callback != page.progress_callback {
        out.push(format!(
            "progressCallBackUrl: {} in spec/, {} on the page",
            present(spec.progress_callback),
            present(page.progress_callback)
        ));
    }
    for field in &spec.fields {
        if !page.fields.iter().any(|f| f.name == field.name) {
            out.push(format!("input.{}: removed from the page", field.name));
        }
    }
    for field in &page.fields {
        let Some(ours) = spec.fields.iter().find(|f| f.name == field.name) else {
            out.push(format!("input.{}: added on the page", field.name));
            continue;
        };
        let (ours, theirs) = (facts(ours), facts(field));
        for (fact, b) in &theirs {
            let a = ours
                .iter()
                .find(|(k, _)| k == fact)
                .map_or("none", |(_, v)| v.as_str());
            if a != b {
                out.push(format!(
                    "input.{}: {fact} is {a} in spec/, {b} on the page",
                    field.name
                ));
            }
        }
        for (fact, a) in &ours {
            if !theirs.iter().any(|(k, _)| k == fact) {
                out.push(format!(
                    "input.{}: {fact} is {a} in spec/, absent on the page",
                    field.name
                ));
            }
        }
    }
    out
}

fn present(yes: bool) -> &'static str {
    if yes { "present" } else { "absent" }
}

/// A field's comparable facts, by the keyword that states each (`none` when absent);
/// the fields of a list's objects come as `items.<field>.<keyword>`.
fn facts(field: &Field) -> Vec<(String, String)> {
    let n = |v: Option<u64>| v.map(|m| m.to_string());
    let (ty, limits): (&str, Vec<(&str, Option<String>)>) = match &field.kind {
        Kind::Text {
            min_chars,
            max_chars,
        } => (
            "string",
            vec![("minLength", n(*min_chars)), ("maxLength", n(*max_chars))],
        ),
        Kind::Url { max_chars } => ("string (uri)", vec![("maxLength", n(*max_chars))]),
        Kind::Choice { values, .. } => ("string", vec![("enum", Some(format!("{values:?}")))]),
        Kind::Integer { min, max } => (
            "whole number",
            vec![
                ("minimum", min.map(|m| m.to_string())),
                ("maximum", max.map(|m| m.to_string())),
            ],
        ),
        Kind::Number { min, max, step } => (
            "number",
            vec![
                ("minimum", min.map(|m| m.to_string())),
                ("maximum", max.map(|m| m.to_string())),
                ("multipleOf", step.map(|s| s.to_string())),
            ],
        ),
        Kind::Boolean => ("boolean", Vec::new()),
        Kind::TextList {
            min_items,
            max_items,
        } => (
            "list of strings",
            vec![("minItems", n(*min_items)), ("maxItems", n(*max_items))],
        ),
        Kind::UrlList {
            min_items,
            max_items,
        } => (
            "list of URLs",
            vec![("minItems", n(*min_items)), ("maxItems", n(*max_items))],
        ),
        Kind::Objects {
            min_items,
            max_items,
            ..
        } => (
            "list of objects",
            vec![("minItems", n(*min_items)), ("maxItems", n(*max_items))],
        ),
    };
    let mut out = vec![("the type".to_owned(), ty.to_owned())];
    out.extend(
        limits
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.unwrap_or_else(|| "none".into()))),
    );
    let file = field.file.as_ref();
    out.push((
        format!("{}.types", spec::FILE),
        file.map_or_else(|| "none".into(), |f| format!("{:?}", f.types)),
    ));
    out.push((
        format!("{}.max-bytes", spec::FILE),
        file.and_then(|f| f.max_bytes)
            .map_or_else(|| "none".into(), |b| b.to_string()),
    ));
    out.push((
        "default".into(),
        field
            .default
            .as_ref()
            .map_or_else(|| "none".into(), ToString::to_string),
    ));
    out.push(("required".into(), field.required.to_string()));
    if let Kind::Objects { fields, .. } = &field.kind {
        for item in fields {
            out.extend(
                facts(item)
                    .into_iter()
                    .map(|(k, v)| (format!("items.{}.{k}", item.name), v)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_follow_the_documents_conventions() {
        assert_eq!(variant_name("aspect_ratio", "16:9"), "Ratio16x9");
        assert_eq!(variant_name("resolution", "1080p"), "P1080");
        assert_eq!(variant_name("duration", "10"), "Secs10");
        assert_eq!(variant_name("extend_times", "6"), "ExtendTimes6");
        assert_eq!(variant_name("duration", "2.5"), "Secs2p5");
        assert_eq!(variant_name("upload_method", "s3"), "S3");
        assert_eq!(variant_name("mode", "text-to-video"), "TextToVideo");
    }

    #[test]
    fn a_step_documented_in_prose_is_a_multiple_of() {
        let step = |d: &str| documented_step(d).map(|n| n.to_string());
        assert_eq!(
            step("(Min: 0, Max: 1, Step: 0.1) (step: 0.1)").as_deref(),
            Some("0.1")
        );
        assert_eq!(step("a seed (step: 1)").as_deref(), Some("1"));
        assert_eq!(step("no step here"), None);
    }

    #[test]
    fn example_values_are_fitted_only_when_nothing_is_lost() {
        let n = |t: &str| Json::parse(t).unwrap();
        assert_eq!(fit("string", &n("0")), Some(n("\"0\"")));
        assert_eq!(fit("number", &n("\"6\"")), Some(n("6")));
        assert_eq!(fit("number", &n("\"six\"")), None);
        assert_eq!(fit("boolean", &n("\"true\"")), Some(n("true")));
        assert_eq!(fit("array", &n("\"a\"")), None);
    }

    #[test]
    fn a_page_outside_a_market_folder_has_no_address() {
        let dir = std::env::temp_dir().join("xtask-import-unit-no-market");
        fs::create_dir_all(&dir).unwrap();
        let page = dir.join("page.md");
        fs::write(&page, "```yaml\nopenapi: 3.0.1\n```\n").unwrap();
        let err = read_page(&page).unwrap_err();
        assert!(err.contains("not under a `market/` folder"), "{err}");
    }
}
