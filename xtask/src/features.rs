//! `cargo xtask features`: the facade's features really isolate the providers.
//!
//! A user who enables only `kling` must not compile (or pay for) Bytedance, Sora or
//! Hailuo code, and each provider crate must build without the others. The check reads
//! the facade's features from `cargo metadata`, so it follows `crates/kie/Cargo.toml`
//! instead of a second list kept by hand, then:
//!
//! 1. `cargo check -p <provider>` for each provider crate alone;
//! 2. `cargo check -p kie --no-default-features`, and with each single feature;
//! 3. `cargo tree -e normal` for each of those builds: exactly the providers of the
//!    chosen feature appear, and the default build has all of them;
//! 4. no provider crate depends on another provider crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::codegen::FACADE;

/// What the facade's manifest says: each provider feature and the provider crates it
/// enables. A feature that enables no optional dependency (such as `axum`, which turns
/// on a feature of `kie-core`) is not a provider feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facade {
    /// Feature name -> provider crates it enables (`dep:` entries), defaults excluded.
    pub features: BTreeMap<String, BTreeSet<String>>,
    /// The features `default` turns on.
    pub default: BTreeSet<String>,
    /// Each provider crate -> the names of its normal dependencies.
    pub provider_deps: BTreeMap<String, BTreeSet<String>>,
}

impl Facade {
    /// Every provider crate named by some feature.
    pub fn providers(&self) -> BTreeSet<String> {
        self.features.values().flatten().cloned().collect()
    }
}

/// Runs every check against the workspace at `root`, printing progress, with cargo's
/// usual target directory.
///
/// # Errors
///
/// Every failed check, each on its own line.
pub fn run(root: &Path) -> Result<(), String> {
    check(root, None)
}

/// Runs every check against the workspace at `root`, building into `target_dir` when
/// given (the tests build their small workspaces apart from the real one).
///
/// # Errors
///
/// Every failed check, each on its own line.
pub fn check(root: &Path, target_dir: Option<&Path>) -> Result<(), String> {
    let target: Vec<String> = target_dir
        .map(|dir| {
            vec![
                "--target-dir".to_owned(),
                dir.to_string_lossy().into_owned(),
            ]
        })
        .unwrap_or_default();
    let target: Vec<&str> = target.iter().map(String::as_str).collect();
    let manifest = root.join("Cargo.toml");
    let metadata = cargo(
        root,
        &[
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
            &manifest.to_string_lossy(),
        ],
    )?;
    let facade = read_facade(&metadata)?;
    let manifest = manifest.to_string_lossy().into_owned();
    let mut failures = Vec::new();
    failures.extend(check_facade_shape(&facade));

    for provider in facade.providers() {
        eprintln!("features: cargo check -p {provider}");
        let mut args = vec![
            "check",
            "--quiet",
            "--manifest-path",
            &manifest,
            "-p",
            &provider,
        ];
        args.extend(&target);
        if let Err(e) = cargo(root, &args) {
            failures.push(format!("{provider} does not build alone: {e}"));
        }
    }

    let mut builds: Vec<(String, Vec<String>, BTreeSet<String>)> = vec![(
        "no default features".into(),
        vec!["--no-default-features".into()],
        BTreeSet::new(),
    )];
    for (feature, crates) in &facade.features {
        builds.push((
            format!("only `{feature}`"),
            vec![
                "--no-default-features".into(),
                "--features".into(),
                feature.clone(),
            ],
            crates.clone(),
        ));
    }
    let default_crates: BTreeSet<String> = facade
        .default
        .iter()
        .filter_map(|f| facade.features.get(f))
        .flatten()
        .cloned()
        .collect();
    builds.push(("default features".into(), Vec::new(), default_crates));

    for (label, flags, expected) in &builds {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let mut args = vec![
            "check",
            "--quiet",
            "--manifest-path",
            &manifest,
            "-p",
            FACADE,
        ];
        args.extend(&flags);
        eprintln!("features: cargo {}", args.join(" "));
        args.extend(&target);
        if let Err(e) = cargo(root, &args) {
            failures.push(format!("`{FACADE}` with {label} does not build: {e}"));
            continue;
        }
        let mut args = vec![
            "tree",
            "--manifest-path",
            &manifest,
            "-p",
            FACADE,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ];
        args.extend(&flags);
        match cargo(root, &args) {
            Ok(tree) => {
                if let Err(e) = check_tree(label, &tree, &facade.providers(), expected) {
                    failures.push(e);
                }
            }
            Err(e) => failures.push(format!("cargo tree for {label} failed: {e}")),
        }
    }

    if failures.is_empty() {
        eprintln!("features: all checks passed");
        Ok(())
    } else {
        Err(format!(
            "feature checks failed:\n  {}",
            failures.join("\n  ")
        ))
    }
}

/// Reads the facade's features and the providers' dependencies from
/// `cargo metadata --no-deps` output.
///
/// # Errors
///
/// Output that is not cargo metadata, or a workspace without the facade.
pub fn read_facade(metadata: &str) -> Result<Facade, String> {
    let json: serde_json::Value =
        serde_json::from_str(metadata).map_err(|e| format!("cargo metadata: {e}"))?;
    let packages = json
        .get("packages")
        .and_then(serde_json::Value::as_array)
        .ok_or("cargo metadata has no packages")?;
    let name_of = |p: &serde_json::Value| {
        p.get("name")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let facade = packages
        .iter()
        .find(|p| name_of(p).as_deref() == Some(FACADE))
        .ok_or_else(|| format!("the workspace has no `{FACADE}` package"))?;
    let raw = facade
        .get("features")
        .and_then(serde_json::Value::as_object)
        .ok_or("the facade has no features table")?;
    let mut features = BTreeMap::new();
    let mut default = BTreeSet::new();
    for (name, enables) in raw {
        let enables: Vec<&str> = enables
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        if name == "default" {
            default = enables.iter().map(|s| (*s).to_owned()).collect();
        } else {
            let crates: BTreeSet<String> = enables
                .iter()
                .filter_map(|e| e.strip_prefix("dep:"))
                .map(str::to_owned)
                .collect();
            if !crates.is_empty() {
                features.insert(name.clone(), crates);
            }
        }
    }
    let providers: BTreeSet<String> = features.values().flatten().cloned().collect();
    let mut provider_deps = BTreeMap::new();
    for package in packages {
        let Some(name) = name_of(package) else {
            continue;
        };
        if !providers.contains(&name) {
            continue;
        }
        let deps = package
            .get("dependencies")
            .and_then(serde_json::Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter(|d| d.get("kind").is_none_or(serde_json::Value::is_null))
                    .filter_map(name_of)
                    .collect()
            })
            .unwrap_or_default();
        provider_deps.insert(name, deps);
    }
    Ok(Facade {
        features,
        default,
        provider_deps,
    })
}

/// Checks that don't need a build: each provider feature enables exactly one provider
/// crate of its own, `default` has every provider feature, and no provider depends on
/// another.
pub fn check_facade_shape(facade: &Facade) -> Vec<String> {
    let mut failures = Vec::new();
    if facade.features.is_empty() {
        failures.push(format!("`{FACADE}` has no provider features"));
    }
    for (feature, crates) in &facade.features {
        if crates.len() != 1 {
            failures.push(format!(
                "feature `{feature}` enables {} provider crates ({}); it must enable exactly one",
                crates.len(),
                crates.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let all: BTreeSet<String> = facade.features.keys().cloned().collect();
    if !all.is_subset(&facade.default) {
        failures.push(format!(
            "`default` must enable every provider feature ({}), it enables ({})",
            all.iter().cloned().collect::<Vec<_>>().join(", "),
            facade
                .default
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let providers = facade.providers();
    for (provider, deps) in &facade.provider_deps {
        for dep in deps {
            if providers.contains(dep) && dep != provider {
                failures.push(format!("provider `{provider}` depends on provider `{dep}`"));
            }
        }
    }
    failures
}

/// Checks the package list of `cargo tree --prefix none --format {p}`: exactly
/// `expected` of the `providers` are compiled.
///
/// # Errors
///
/// Which provider crates are compiled but should not be, or missing.
pub fn check_tree(
    label: &str,
    tree: &str,
    providers: &BTreeSet<String>,
    expected: &BTreeSet<String>,
) -> Result<(), String> {
    let present: BTreeSet<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| providers.contains(*name))
        .map(str::to_owned)
        .collect();
    let extra: Vec<&String> = present.difference(expected).collect();
    let missing: Vec<&String> = expected.difference(&present).collect();
    let mut problems = Vec::new();
    if !extra.is_empty() {
        problems.push(format!(
            "compiles {} as well",
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !missing.is_empty() {
        problems.push(format!(
            "does not compile {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`{FACADE}` with {label} {}",
            problems.join(" and ")
        ))
    }
}

fn cargo(root: &Path, args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|e| format!("cargo wrote non-UTF-8: {e}"))
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        Err(tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    const TREE_KLING: &str = "kie v0.1.0 (/w/crates/kie)\nkie-core v0.1.0 (/w/crates/kie-core)\n\
        serde v1.0.0\nkie-kling v0.1.0 (/w/crates/kie-kling)\n";

    #[test]
    fn a_tree_with_exactly_the_feature_s_provider_passes() {
        let providers = set(&["kie-kling", "kie-sora"]);
        check_tree("only `kling`", TREE_KLING, &providers, &set(&["kie-kling"])).unwrap();
    }

    #[test]
    fn a_tree_with_another_provider_fails_and_names_it() {
        let providers = set(&["kie-kling", "kie-sora"]);
        let tree = format!("{TREE_KLING}kie-sora v0.1.0 (/w/crates/kie-sora)\n");
        let err = check_tree("only `kling`", &tree, &providers, &set(&["kie-kling"])).unwrap_err();
        assert_eq!(err, "`kie` with only `kling` compiles kie-sora as well");
        let err = check_tree("no default features", TREE_KLING, &providers, &set(&[])).unwrap_err();
        assert!(err.contains("compiles kie-kling"), "{err}");
        let err =
            check_tree("only `sora`", TREE_KLING, &providers, &set(&["kie-sora"])).unwrap_err();
        assert!(err.contains("does not compile kie-sora"), "{err}");
    }

    #[test]
    fn the_facade_shape_is_checked() {
        let mut facade = Facade {
            features: [
                ("kling".to_owned(), set(&["kie-kling"])),
                ("sora".to_owned(), set(&["kie-sora", "kie-kling"])),
            ]
            .into_iter()
            .collect(),
            default: set(&["kling"]),
            provider_deps: [("kie-sora".to_owned(), set(&["kie-core", "kie-kling"]))]
                .into_iter()
                .collect(),
        };
        let failures = check_facade_shape(&facade);
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(failures[0].contains("feature `sora` enables 2 provider crates"));
        assert!(failures[1].contains("`default` must enable every provider feature"));
        assert!(failures[2].contains("provider `kie-sora` depends on provider `kie-kling`"));

        facade.features.insert("sora".into(), set(&["kie-sora"]));
        facade.default = set(&["kling", "sora"]);
        facade
            .provider_deps
            .insert("kie-sora".into(), set(&["kie-core"]));
        assert!(check_facade_shape(&facade).is_empty());

        // `default` may also turn on features that are not providers'.
        facade.default = set(&["kling", "sora", "rustls"]);
        assert!(check_facade_shape(&facade).is_empty());
    }

    #[test]
    fn metadata_is_read() {
        let metadata = serde_json::json!({"packages": [
            {"name": "kie", "features": {"default": ["kling"], "kling": ["dep:kie-kling"],
                                         "axum": ["kie-core/axum"]},
             "dependencies": []},
            {"name": "kie-kling", "features": {}, "dependencies": [
                {"name": "kie-core", "kind": null},
                {"name": "proptest", "kind": "dev"}]}
        ]});
        let facade = read_facade(&metadata.to_string()).unwrap();
        assert_eq!(facade.features["kling"], set(&["kie-kling"]));
        assert!(
            !facade.features.contains_key("axum"),
            "a feature enabling no optional dependency is not a provider feature"
        );
        assert_eq!(facade.default, set(&["kling"]));
        assert_eq!(facade.provider_deps["kie-kling"], set(&["kie-core"]));
    }
}
