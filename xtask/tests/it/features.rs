//! `cargo xtask features` passes on a facade whose features isolate its providers and
//! fails, saying why, on one whose features leak. Both run on small temporary
//! workspaces shaped like this one (a facade `kie` and providers `kie-a`, `kie-b`), so
//! the test is quick and never touches the real crates.

use std::fs;
use std::path::Path;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A workspace with a facade and two providers; `a_deps` is what `kie-a` depends on.
fn fixture(a_deps: &str, b_source: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"kie\", \"kie-a\", \"kie-b\"]\n",
    );
    write(
        root,
        "kie/Cargo.toml",
        "[package]\nname = \"kie\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [features]\ndefault = [\"a\", \"b\"]\na = [\"dep:kie-a\"]\nb = [\"dep:kie-b\"]\n\n\
         [dependencies]\nkie-a = { path = \"../kie-a\", optional = true }\n\
         kie-b = { path = \"../kie-b\", optional = true }\n",
    );
    write(
        root,
        "kie/src/lib.rs",
        "#[cfg(feature = \"a\")]\npub use kie_a as a;\n#[cfg(feature = \"b\")]\npub use kie_b as b;\n",
    );
    write(
        root,
        "kie-a/Cargo.toml",
        &format!(
            "[package]\nname = \"kie-a\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n{a_deps}"
        ),
    );
    write(root, "kie-a/src/lib.rs", "pub fn a() {}\n");
    write(
        root,
        "kie-b/Cargo.toml",
        "[package]\nname = \"kie-b\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(root, "kie-b/src/lib.rs", b_source);
    tmp
}

#[test]
fn isolated_features_pass() {
    let tmp = fixture("", "pub fn b() {}\n");
    xtask::features::check(tmp.path(), Some(&tmp.path().join("target"))).unwrap();
}

#[test]
fn a_feature_that_compiles_another_provider_fails() {
    let tmp = fixture("kie-b = { path = \"../kie-b\" }\n", "pub fn b() {}\n");
    let err = xtask::features::check(tmp.path(), Some(&tmp.path().join("target"))).unwrap_err();
    assert!(
        err.contains("provider `kie-a` depends on provider `kie-b`"),
        "{err}"
    );
    assert!(
        err.contains("`kie` with only `a` compiles kie-b as well"),
        "{err}"
    );
    assert!(!err.contains("only `b` compiles"), "{err}");
}

#[test]
fn a_provider_that_does_not_build_fails() {
    let tmp = fixture("", "pub fn b() -> u8 { \"not a number\" }\n");
    let err = xtask::features::check(tmp.path(), Some(&tmp.path().join("target"))).unwrap_err();
    assert!(err.contains("kie-b does not build alone"), "{err}");
    assert!(err.contains("`kie` with only `b` does not build"), "{err}");
    assert!(!err.contains("only `a` does not build"), "{err}");
}
