//! `cargo xtask import`: a fixture page (a cut-down kie.ai page with deliberate
//! defects) imported into a scratch workspace gives the expected document, the same
//! bytes a second time, and `--check` tells a matching spec/ from a drifted one. The
//! workspace's own table and the five models' pages are checked when kie.ai's docs
//! folder is there.

use std::fs;
use std::path::{Path, PathBuf};

use xtask::import::{self, Options, Table};
use xtask::json::Json;

fn fixtures() -> PathBuf {
    xtask::workspace_root()
        .unwrap()
        .join("xtask/tests/fixtures/import")
}

fn fixture_page() -> PathBuf {
    fixtures().join("market/demo/clip-text-to-video.md")
}

/// A scratch workspace with the fixture table in spec/.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("spec")).unwrap();
    fs::copy(
        fixtures().join("import.toml"),
        tmp.path().join(import::TABLE),
    )
    .unwrap();
    tmp
}

fn import_pages(root: &Path, pages: &[PathBuf]) -> import::Outcome {
    let options = Options {
        pages: pages.to_vec(),
        ..Options::default()
    };
    import::run(root, &options).unwrap()
}

fn check(root: &Path, pages: &[PathBuf], docs: Option<PathBuf>) -> import::Outcome {
    let options = Options {
        pages: pages.to_vec(),
        check: true,
        docs,
        ..Options::default()
    };
    import::run(root, &options).unwrap()
}

fn written(root: &Path) -> String {
    fs::read_to_string(root.join("spec/demo-clip-text-to-video.json")).unwrap()
}

#[test]
fn a_page_imports_to_the_expected_document() {
    let tmp = workspace();
    let outcome = import_pages(tmp.path(), &[fixture_page()]);
    assert!(outcome.ok, "{:#?}", outcome.lines);
    let expected = fs::read_to_string(fixtures().join("demo-clip-text-to-video.json")).unwrap();
    assert_eq!(written(tmp.path()), expected);
    assert!(
        outcome
            .lines
            .contains(&"demo/clip-text-to-video: wrote spec/demo-clip-text-to-video.json".into()),
        "{:#?}",
        outcome.lines
    );
}

#[test]
fn a_second_run_writes_the_same_bytes_and_keeps_our_descriptions() {
    let tmp = workspace();
    import_pages(tmp.path(), &[fixture_page()]);
    let path = tmp.path().join("spec/demo-clip-text-to-video.json");
    let ours = written(tmp.path()).replace("\"A style hint\"", "\"Our own words on style.\"");
    fs::write(&path, &ours).unwrap();
    let outcome = import_pages(tmp.path(), &[fixture_page()]);
    assert!(
        outcome.lines.contains(
            &"demo/clip-text-to-video: spec/demo-clip-text-to-video.json unchanged".into()
        ),
        "{:#?}",
        outcome.lines
    );
    assert_eq!(written(tmp.path()), ours);
}

#[test]
fn each_defect_is_corrected_reported_and_recorded() {
    let tmp = workspace();
    let outcome = import_pages(tmp.path(), &[fixture_page()]);
    let doc = Json::parse(&written(tmp.path())).unwrap();
    let recorded: Vec<&str> = doc
        .get("x-kie-rs")
        .and_then(|x| x.get("docs-defects"))
        .and_then(Json::as_array)
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let expected = [
        "the field name `style ` has surrounding spaces; imported as `style`",
        "`input.quality` is listed as required but documents a default; imported as optional (omitted means the default)",
        "the request example sends `duration` as 10, where the schema says string; sent as \"10\"",
        "the request example's field `style ` has surrounding spaces; sent as `style`",
    ];
    assert_eq!(recorded, expected);
    for defect in expected {
        let line = format!("demo/clip-text-to-video: docs defect: {defect}");
        assert!(
            outcome.lines.contains(&line),
            "{line} not in {:#?}",
            outcome.lines
        );
    }
}

/// The fixture page with `from` replaced, under a scratch `market/demo/`.
fn edited_page(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(fixture_page()).unwrap();
    assert!(text.contains(from), "the fixture has no {from:?}");
    let page = dir.join("market/demo/clip-text-to-video.md");
    fs::create_dir_all(page.parent().unwrap()).unwrap();
    fs::write(&page, text.replacen(from, to, 1)).unwrap();
    page
}

/// Adds a `[defect."demo/clip-text-to-video"]` section with `body` to the table.
fn add_correction(root: &Path, body: &str) {
    let table = root.join(import::TABLE);
    let text = fs::read_to_string(&table).unwrap();
    fs::write(
        &table,
        format!("{text}\n[defect.\"demo/clip-text-to-video\"]\n{body}"),
    )
    .unwrap();
}

#[test]
fn a_wrong_model_enum_needs_the_tables_correction_which_is_recorded() {
    let tmp = workspace();
    let page = edited_page(
        tmp.path(),
        "enum:\n                    - demo/clip-text-to-video",
        "enum:\n                    - demo/other-model",
    );
    let outcome = import_pages(tmp.path(), std::slice::from_ref(&page));
    assert!(!outcome.ok);
    assert!(
        outcome.lines.iter().any(|l| l.starts_with("error: demo/clip-text-to-video: ")
            && l.contains("the `model` enum names `demo/other-model` but the request example \"demo/clip-text-to-video\"")),
        "{:#?}",
        outcome.lines
    );

    add_correction(
        tmp.path(),
        "why = \"the enum is another model's\"\nmodel_id = \"demo/clip-text-to-video\"\n",
    );
    let outcome = import_pages(tmp.path(), &[page]);
    assert!(outcome.ok, "{:#?}", outcome.lines);
    let line = "demo/clip-text-to-video: docs defect: the `model` enum names `demo/other-model`; the model is `demo/clip-text-to-video`: the enum is another model's";
    assert!(outcome.lines.contains(&line.into()), "{:#?}", outcome.lines);
    assert!(written(tmp.path()).contains("the `model` enum names `demo/other-model`"));
}

#[test]
fn an_example_that_is_not_json_is_refused_until_the_table_corrects_it() {
    let tmp = workspace();
    let page = edited_page(
        tmp.path(),
        "            example:\n              model: demo/clip-text-to-video\n              callBackUrl: https://your-domain.com/api/callback\n              input:\n                prompt: a red fox in the snow\n                duration: 10\n                'style ': watercolour\n                shots:\n                  - Scene: a fox\n                    duration: 2.5\n",
        "            example: '{\"model\": \"demo/clip-text-to-video\", \"input\": {image \"prompt\": \"a fox\"}}'\n",
    );
    let outcome = import_pages(tmp.path(), std::slice::from_ref(&page));
    assert!(!outcome.ok);
    assert!(
        outcome
            .lines
            .iter()
            .any(|l| l.contains("the request example is not valid JSON")
                && l.contains("give a corrected `example`")),
        "{:#?}",
        outcome.lines
    );

    add_correction(
        tmp.path(),
        "why = \"a stray `image`\"\nexample = '{\"model\": \"demo/clip-text-to-video\", \"input\": {\"prompt\": \"a fox\"}}'\n",
    );
    let outcome = import_pages(tmp.path(), &[page]);
    assert!(outcome.ok, "{:#?}", outcome.lines);
    assert!(
        outcome.lines.iter().any(|l| l
            .contains("docs defect: the request example is not valid JSON")
            && l.ends_with("replaced by the table's: a stray `image`")),
        "{:#?}",
        outcome.lines
    );
    assert!(written(tmp.path()).contains("\"prompt\": \"a fox\""));
}

#[test]
fn a_page_the_table_does_not_name_gets_a_drafted_row_that_the_table_reads() {
    let tmp = workspace();
    fs::write(tmp.path().join(import::TABLE), "").unwrap();
    let outcome = import_pages(tmp.path(), &[fixture_page()]);
    assert!(!outcome.ok);
    let line = outcome
        .lines
        .iter()
        .find(|l| l.contains("has no row"))
        .unwrap();
    let row = &line[line.find("[model.").unwrap()..];
    let table: Table = toml::from_str(row).unwrap();
    let drafted = &table.model["demo/clip-text-to-video"];
    assert_eq!(drafted.module, "clip_text_to_video");
    assert_eq!(drafted.type_name, "DemoClipTextToVideo");
    assert_eq!(drafted.krate, "kie-demo");
    assert_eq!(import::row_toml("demo/clip-text-to-video", drafted), row);

    let options = Options {
        pages: vec![fixture_page()],
        draft: true,
        ..Options::default()
    };
    let outcome = import::run(tmp.path(), &options).unwrap();
    assert!(outcome.ok, "{:#?}", outcome.lines);
}

#[test]
fn check_passes_on_an_unmodified_spec_and_reports_drift_on_a_modified_one() {
    let tmp = workspace();
    import_pages(tmp.path(), &[fixture_page()]);
    let outcome = check(tmp.path(), &[fixture_page()], None);
    assert!(outcome.ok, "{:#?}", outcome.lines);

    let path = tmp.path().join("spec/demo-clip-text-to-video.json");
    let drifted = written(tmp.path())
        .replace("\"maxLength\": 800", "\"maxLength\": 900")
        .replace(
            "                        ],\n                        \"default\": \"high\",",
            "                          ,\"ultra\"\n                        ],\n                        \"default\": \"high\",",
        );
    fs::write(&path, drifted.replace("\"Standard\",\n                          \"High\"", "\"Standard\",\n                          \"High\",\n                          \"Ultra\"")).unwrap();
    let outcome = check(tmp.path(), &[fixture_page()], None);
    assert!(!outcome.ok);
    let expected = [
        "drift: demo/clip-text-to-video: input.prompt: maxLength is 900 in spec/, 800 on the page",
        "drift: demo/clip-text-to-video: input.quality: enum is [\"standard\", \"high\", \"ultra\"] in spec/, [\"standard\", \"high\"] on the page",
    ];
    for line in expected {
        assert!(
            outcome.lines.contains(&line.into()),
            "{line} not in {:#?}",
            outcome.lines
        );
    }
    // The check compares only; it writes nothing.
    assert!(written(tmp.path()).contains("\"maxLength\": 900"));
}

#[test]
fn check_reports_a_field_the_page_added() {
    let tmp = workspace();
    import_pages(tmp.path(), &[fixture_page()]);
    let page = edited_page(
        tmp.path(),
        "                    quality:\n",
        "                    seed:\n                      description: A seed\n                      type: integer\n                      minimum: 0\n                    quality:\n",
    );
    let outcome = check(tmp.path(), &[page], None);
    assert!(!outcome.ok);
    assert!(
        outcome
            .lines
            .contains(&"drift: demo/clip-text-to-video: input.seed: added on the page".into()),
        "{:#?}",
        outcome.lines
    );
}

#[test]
fn check_without_the_docs_folder_is_skipped_and_passes() {
    let tmp = workspace();
    let missing = tmp.path().join("no-docs-here");
    let outcome = check(tmp.path(), &[], Some(missing.clone()));
    assert!(outcome.ok);
    assert_eq!(
        outcome.lines,
        [format!(
            "import --check: skipped: no kie.ai docs folder at {}",
            missing.display()
        )]
    );
}

#[test]
fn the_binary_skips_the_check_without_a_docs_folder() {
    let tmp = workspace();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["import", "--check", "--docs"])
        .arg(tmp.path().join("absent"))
        .arg("--root")
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped: no kie.ai docs folder at"),
        "{stderr}"
    );
}

#[test]
fn the_workspace_spec_matches_kie_ais_pages_when_the_docs_are_there() {
    let root = xtask::workspace_root().unwrap();
    let outcome = check(&root, &[], None);
    assert!(outcome.ok, "{:#?}", outcome.lines);
}
