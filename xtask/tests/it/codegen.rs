//! `cargo xtask codegen --check` passes on the checked-in code and fails, naming each
//! stale file, when a spec changes, when generated code is edited by hand, or when a
//! spec is removed. Each case works on a temporary copy of the workspace's spec/ and
//! generated files, never on the real ones.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::codegen;

fn root() -> PathBuf {
    xtask::workspace_root().unwrap()
}

/// Copies what codegen reads and writes into a temporary directory.
fn workspace_copy() -> tempfile::TempDir {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root.join("spec"), &tmp.path().join("spec"));
    copy_dir(
        &root.join(codegen::EMULATOR_SPECS),
        &tmp.path().join(codegen::EMULATOR_SPECS),
    );
    fs::copy(root.join("rustfmt.toml"), tmp.path().join("rustfmt.toml")).unwrap();
    for entry in fs::read_dir(root.join("crates")).unwrap() {
        let entry = entry.unwrap();
        let generated = entry.path().join("src/generated");
        if generated.is_dir() {
            copy_dir(
                &generated,
                &tmp.path()
                    .join("crates")
                    .join(entry.file_name())
                    .join("src/generated"),
            );
        }
    }
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn edit(path: PathBuf, from: &str, to: &str) {
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_checked_in_code_is_up_to_date() {
    codegen::run(&root(), true).unwrap();
}

#[test]
fn generation_is_deterministic() {
    let root = root();
    assert_eq!(
        codegen::generate(&root).unwrap(),
        codegen::generate(&root).unwrap()
    );
}

#[test]
fn a_changed_spec_fails_the_check_naming_the_stale_file() {
    let tmp = workspace_copy();
    codegen::run(tmp.path(), true).expect("the copy starts up to date");

    edit(
        tmp.path().join("spec/kling-v2-1-master-text-to-video.json"),
        "\"maxLength\": 5000",
        "\"maxLength\": 4000",
    );
    let err = codegen::run(tmp.path(), true).unwrap_err();
    assert_eq!(
        err,
        "generated code is stale; run `cargo xtask codegen`:\n  \
         crates/kie-emulator/spec/kling-v2-1-master-text-to-video.json\n  \
         crates/kie-kling/src/generated/v2_1_master_text_to_video.rs"
    );
    // --check wrote nothing.
    let module = tmp
        .path()
        .join("crates/kie-kling/src/generated/v2_1_master_text_to_video.rs");
    assert!(fs::read_to_string(&module).unwrap().contains("5000"));

    // Regenerating fixes it, and the new limit is in the code.
    let written = codegen::run(tmp.path(), false).unwrap();
    assert_eq!(
        written,
        [
            "crates/kie-emulator/spec/kling-v2-1-master-text-to-video.json",
            "crates/kie-kling/src/generated/v2_1_master_text_to_video.rs"
        ]
    );
    let copy = tmp
        .path()
        .join("crates/kie-emulator/spec/kling-v2-1-master-text-to-video.json");
    assert_eq!(
        fs::read(copy).unwrap(),
        fs::read(tmp.path().join("spec/kling-v2-1-master-text-to-video.json")).unwrap()
    );
    let code = fs::read_to_string(&module).unwrap();
    assert!(
        code.contains(r#"v.max_chars("prompt", value, 4000);"#),
        "{code}"
    );
    codegen::run(tmp.path(), true).unwrap();
}

#[test]
fn a_hand_edit_to_generated_code_fails_the_check() {
    let tmp = workspace_copy();
    edit(
        tmp.path()
            .join("crates/kie-sora/src/generated/sora_2_pro_text_to_video.rs"),
        "v.max_items(\"character_id_list\", value.len(), 5);",
        "",
    );
    let err = codegen::run(tmp.path(), true).unwrap_err();
    assert!(
        err.contains("crates/kie-sora/src/generated/sora_2_pro_text_to_video.rs"),
        "{err}"
    );
}

#[test]
fn a_removed_spec_leaves_stale_files_that_the_check_names() {
    // Topaz has one model: removing its spec leaves the crate no generated module.
    let tmp = workspace_copy();
    fs::remove_file(tmp.path().join("spec/topaz-video-upscale.json")).unwrap();
    let err = codegen::run(tmp.path(), true).unwrap_err();
    for stale in [
        "crates/kie-emulator/spec/topaz-video-upscale.json",
        "crates/kie-topaz/src/generated/video_upscale.rs",
        "crates/kie-topaz/src/generated/mod.rs",
        "crates/kie/src/generated/mod.rs",
    ] {
        assert!(err.contains(stale), "{stale} not named in: {err}");
    }
    codegen::run(tmp.path(), false).unwrap();
    for removed in [
        "crates/kie-topaz/src/generated/mod.rs",
        "crates/kie-emulator/spec/topaz-video-upscale.json",
    ] {
        assert!(!tmp.path().join(removed).exists(), "{removed} is left");
    }
    codegen::run(tmp.path(), true).unwrap();
}

#[test]
fn a_hand_edit_to_the_emulators_copy_of_a_spec_fails_the_check() {
    let tmp = workspace_copy();
    edit(
        tmp.path()
            .join("crates/kie-emulator/spec/kling-v2-1-master-text-to-video.json"),
        "\"maxLength\": 5000",
        "\"maxLength\": 4000",
    );
    let err = codegen::run(tmp.path(), true).unwrap_err();
    assert_eq!(
        err,
        "generated code is stale; run `cargo xtask codegen`:\n  \
         crates/kie-emulator/spec/kling-v2-1-master-text-to-video.json"
    );
}

#[test]
fn an_empty_spec_directory_is_an_error_not_an_empty_catalog() {
    let tmp = workspace_copy();
    for entry in fs::read_dir(tmp.path().join("spec")).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let err = codegen::generate(tmp.path()).unwrap_err();
    assert!(err.ends_with("spec: no *.json document"), "{err}");
}

/// `cargo xtask` is `cargo run -p xtask`: with a `CARGO_TARGET_DIR` shared by two
/// checkouts, cargo may run the binary the other checkout built. It must still work on
/// the workspace cargo ran it for, which cargo names in `CARGO_MANIFEST_DIR` at run time.
#[test]
fn the_binary_works_on_the_workspace_cargo_runs_it_for() {
    let tmp = workspace_copy();
    edit(
        tmp.path().join("spec/kling-v2-1-master-text-to-video.json"),
        "\"maxLength\": 5000",
        "\"maxLength\": 4000",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check"])
        .env("CARGO_MANIFEST_DIR", tmp.path().join("xtask"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("crates/kie-kling/src/generated/v2_1_master_text_to_video.rs"),
        "{stderr}"
    );
}

#[test]
fn the_binary_run_without_cargo_asks_for_a_root() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check"])
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "CARGO_MANIFEST_DIR is not set: run this as `cargo xtask ...`, or pass --root DIR\n"
    );
}

#[test]
fn a_keyword_the_generator_would_not_enforce_is_refused() {
    let tmp = workspace_copy();
    edit(
        tmp.path().join("spec/hailuo-02-text-to-video-pro.json"),
        "\"maxLength\": 1500",
        "\"maxLength\": 1500, \"contentEncoding\": \"base64\"",
    );
    let err = codegen::generate(tmp.path()).unwrap_err();
    assert_eq!(
        err,
        "spec/hailuo-02-text-to-video-pro.json: input.prompt: keyword `contentEncoding` is not \
         supported for this type; the generator would not enforce it"
    );
}

#[test]
fn an_empty_required_list_is_refused_since_json_schema_draft_4_refuses_it() {
    let tmp = workspace_copy();
    edit(
        tmp.path().join("spec/hailuo-02-text-to-video-pro.json"),
        "\"required\": [\n                      \"prompt\"\n                    ],",
        "\"required\": [],",
    );
    let err = codegen::generate(tmp.path()).unwrap_err();
    assert_eq!(
        err,
        "spec/hailuo-02-text-to-video-pro.json: input.required is empty: leave it out (JSON Schema draft 4)"
    );
}

#[test]
fn every_uniform_field_needs_a_decision() {
    let tmp = workspace_copy();
    edit(
        tmp.path().join("spec/kling-v2-1-master-text-to-video.json"),
        "\"seed\": {\n        \"unsupported\": \"the model has no seed parameter\"\n      },",
        "",
    );
    let err = codegen::generate(tmp.path()).unwrap_err();
    assert!(
        err.contains("x-kie-rs.uniform: says nothing about `seed`"),
        "{err}"
    );
}

#[test]
fn enums_need_their_rust_names() {
    let tmp = workspace_copy();
    edit(
        tmp.path().join("spec/sora-2-pro-text-to-video.json"),
        "\"S3\",\n                          \"Oss\"",
        "\"S3\"",
    );
    let err = codegen::generate(tmp.path()).unwrap_err();
    assert_eq!(
        err,
        "spec/sora-2-pro-text-to-video.json: input.upload_method: `x-enum-varnames` must \
         name each `enum` value once"
    );
}
