//! `cargo xtask features`: the facade's features really isolate the providers, and its
//! TLS features compile exactly the crypto provider they name.
//!
//! A user who enables only `kling` must not compile (or pay for) any other provider's
//! code (Bytedance, Sora, Hailuo, Wan...), and each provider crate must build without
//! the others. A user who keeps the default TLS must not pay for a second crypto
//! provider (aws-lc-sys's C build was 38 s of a 62 s cold build), and no configuration
//! may bring OpenSSL. The check reads the features of the facade and of kie-core from
//! `cargo metadata`, so it follows the manifests instead of a second list kept by hand,
//! then:
//!
//! 1. `cargo check -p <provider>` for each provider crate alone;
//! 2. `cargo check -p kie --no-default-features`, and with each single feature;
//! 3. `cargo tree -e normal` for each of those builds: exactly the providers of the
//!    chosen feature appear, and the default build has all of them; exactly the crypto
//!    providers its TLS features name appear (the default: one, ring); no OpenSSL,
//!    native-tls or hyper-tls;
//! 4. no provider crate depends on another provider crate;
//! 5. the emulator's library (its default features) compiles no clap, which only its
//!    command line needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::codegen::FACADE;

/// The crate whose features the facade's TLS features forward to.
const CORE: &str = "kie-core";
/// The emulator, whose library must not compile its command line's parser.
const EMULATOR: &str = "kie-emulator";
/// rustls's features that select a crypto provider -> the provider crate each compiles.
const CRYPTO_FEATURES: [(&str, &str); 3] = [
    ("ring", "ring"),
    ("aws-lc-rs", "aws-lc-rs"),
    ("aws_lc_rs", "aws-lc-rs"),
];
/// The default build's one crypto provider: the lightest sound one.
const DEFAULT_CRYPTO: &str = "ring";
/// Crates that mean OpenSSL (or the platform's TLS) in the build.
const OPENSSL: [&str; 4] = ["openssl", "openssl-sys", "native-tls", "hyper-tls"];

/// What the facade's manifest says: each feature and what it enables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facade {
    /// Provider feature -> provider crates it enables (`dep:` entries).
    pub features: BTreeMap<String, BTreeSet<String>>,
    /// Every other feature (those forwarding to kie-core's, such as TLS) -> the crypto
    /// provider crates it compiles, found through kie-core's features.
    pub forwarded: BTreeMap<String, BTreeSet<String>>,
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

    /// The crypto provider crates that `features` compile together.
    pub fn crypto(&self, features: &BTreeSet<String>) -> BTreeSet<String> {
        features
            .iter()
            .filter_map(|f| self.forwarded.get(f))
            .flatten()
            .cloned()
            .collect()
    }
}

/// One build of the facade and what it must compile.
struct Build {
    label: String,
    flags: Vec<String>,
    providers: BTreeSet<String>,
    crypto: BTreeSet<String>,
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

    let mut builds = vec![Build {
        label: "no default features".into(),
        flags: vec!["--no-default-features".into()],
        providers: BTreeSet::new(),
        crypto: BTreeSet::new(),
    }];
    let single = |feature: &String, providers: &BTreeSet<String>| Build {
        label: format!("only `{feature}`"),
        flags: vec![
            "--no-default-features".into(),
            "--features".into(),
            feature.clone(),
        ],
        providers: providers.clone(),
        crypto: facade.crypto(&BTreeSet::from([feature.clone()])),
    };
    for (feature, crates) in &facade.features {
        builds.push(single(feature, crates));
    }
    for feature in facade.forwarded.keys() {
        builds.push(single(feature, &BTreeSet::new()));
    }
    builds.push(Build {
        label: "default features".into(),
        flags: Vec::new(),
        providers: facade
            .default
            .iter()
            .filter_map(|f| facade.features.get(f))
            .flatten()
            .cloned()
            .collect(),
        crypto: facade.crypto(&facade.default),
    });

    for build in &builds {
        let label = &build.label;
        let flags: Vec<&str> = build.flags.iter().map(String::as_str).collect();
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
        let mut args = tree_args(&manifest, FACADE);
        args.extend(&flags);
        match cargo(root, &args) {
            Ok(tree) => {
                if let Err(e) = check_tree(label, &tree, &facade.providers(), &build.providers) {
                    failures.push(e);
                }
                if let Err(e) = check_tls(&format!("`{FACADE}` with {label}"), &tree, &build.crypto)
                {
                    failures.push(e);
                }
            }
            Err(e) => failures.push(format!("cargo tree for {label} failed: {e}")),
        }
    }

    if has_package(&metadata, EMULATOR)? {
        eprintln!("features: cargo tree -p {EMULATOR} -e normal");
        match cargo(root, &tree_args(&manifest, EMULATOR)) {
            Ok(tree) => failures.extend(check_emulator(&tree)),
            Err(e) => failures.push(format!("cargo tree for {EMULATOR} failed: {e}")),
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

/// Reads the facade's features, what kie-core's features compile, and the providers'
/// dependencies from `cargo metadata --no-deps` output.
///
/// # Errors
///
/// Output that is not cargo metadata, or a workspace without the facade.
pub fn read_facade(metadata: &str) -> Result<Facade, String> {
    let packages = packages(metadata)?;
    let facade = packages
        .iter()
        .find(|p| name_of(p).as_deref() == Some(FACADE))
        .ok_or_else(|| format!("the workspace has no `{FACADE}` package"))?;
    let core_features = packages
        .iter()
        .find(|p| name_of(p).as_deref() == Some(CORE))
        .map(feature_table)
        .unwrap_or_default();
    let mut features = BTreeMap::new();
    let mut forwarded = BTreeMap::new();
    let mut default = BTreeSet::new();
    for (name, enables) in feature_table(facade) {
        if name == "default" {
            default = enables.into_iter().collect();
            continue;
        }
        let crates: BTreeSet<String> = enables
            .iter()
            .filter_map(|e| e.strip_prefix("dep:"))
            .map(str::to_owned)
            .collect();
        if crates.is_empty() {
            let core: Vec<&str> = enables
                .iter()
                .filter_map(|e| e.strip_prefix(&format!("{CORE}/")))
                .collect();
            forwarded.insert(name, crypto_of(&core_features, &core));
        } else {
            features.insert(name, crates);
        }
    }
    let providers: BTreeSet<String> = features.values().flatten().cloned().collect();
    let mut provider_deps = BTreeMap::new();
    for package in &packages {
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
        forwarded,
        default,
        provider_deps,
    })
}

/// The crypto provider crates that kie-core's `features` compile, following features
/// that enable other features of kie-core's.
fn crypto_of(core_features: &BTreeMap<String, Vec<String>>, features: &[&str]) -> BTreeSet<String> {
    let mut crypto = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = features.to_vec();
    while let Some(feature) = todo.pop() {
        if !seen.insert(feature) {
            continue;
        }
        for entry in core_features.get(feature).into_iter().flatten() {
            match entry.strip_prefix("rustls/") {
                Some(rustls) => crypto.extend(
                    CRYPTO_FEATURES
                        .iter()
                        .filter(|(f, _)| *f == rustls)
                        .map(|(_, krate)| (*krate).to_owned()),
                ),
                None if core_features.contains_key(entry.as_str()) => todo.push(entry),
                None => {}
            }
        }
    }
    crypto
}

/// The packages of `cargo metadata` output.
fn packages(metadata: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut json: serde_json::Value =
        serde_json::from_str(metadata).map_err(|e| format!("cargo metadata: {e}"))?;
    match json.get_mut("packages").map(serde_json::Value::take) {
        Some(serde_json::Value::Array(packages)) => Ok(packages),
        _ => Err("cargo metadata has no packages".to_owned()),
    }
}

/// Whether the workspace of `cargo metadata` output has a package called `name`.
fn has_package(metadata: &str, name: &str) -> Result<bool, String> {
    Ok(packages(metadata)?
        .iter()
        .any(|p| name_of(p).as_deref() == Some(name)))
}

fn name_of(package: &serde_json::Value) -> Option<String> {
    package
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// A package's features: name -> what each enables.
fn feature_table(package: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    package
        .get("features")
        .and_then(serde_json::Value::as_object)
        .map(|table| {
            table
                .iter()
                .map(|(name, enables)| {
                    let enables = enables
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(serde_json::Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    (name.clone(), enables)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks that don't need a build: each provider feature enables exactly one provider
/// crate of its own, `default` has every provider feature and (when the facade offers
/// TLS providers) exactly one crypto provider, ring; no provider depends on another.
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
            list(&all),
            list(&facade.default)
        ));
    }
    let offered = facade.crypto(&facade.forwarded.keys().cloned().collect());
    let default = facade.crypto(&facade.default);
    if !offered.is_empty() && default != BTreeSet::from([DEFAULT_CRYPTO.to_owned()]) {
        failures.push(format!(
            "`default` must compile one crypto provider, {DEFAULT_CRYPTO}; it compiles ({})",
            list(&default)
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

fn list(items: &BTreeSet<String>) -> String {
    items.iter().cloned().collect::<Vec<_>>().join(", ")
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

/// Checks the package list of a build's `cargo tree`: exactly the `expected` crypto
/// providers, and nothing of OpenSSL's.
///
/// # Errors
///
/// The unexpected or missing crypto providers, and any OpenSSL crate.
pub fn check_tls(what: &str, tree: &str, expected: &BTreeSet<String>) -> Result<(), String> {
    let names = names(tree);
    let crypto: BTreeSet<String> = CRYPTO_FEATURES
        .iter()
        .map(|(_, krate)| *krate)
        .filter(|krate| names.contains(krate))
        .map(str::to_owned)
        .collect();
    let mut problems = Vec::new();
    if crypto != *expected {
        problems.push(format!(
            "compiles the crypto providers ({}) where its features name ({})",
            list(&crypto),
            list(expected)
        ));
    }
    problems.extend(openssl(&names));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} {}", problems.join(" and ")))
    }
}

/// Checks the emulator library's `cargo tree`: no command-line parser, no OpenSSL.
pub fn check_emulator(tree: &str) -> Vec<String> {
    let names = names(tree);
    let mut problems = Vec::new();
    if names.contains("clap") {
        problems.push("compiles clap (only its `cli` feature may)".to_owned());
    }
    problems.extend(openssl(&names));
    problems
        .into_iter()
        .map(|p| format!("`{EMULATOR}`'s library {p}"))
        .collect()
}

/// The crate names of `cargo tree --prefix none --format {p}` output.
fn names(tree: &str) -> BTreeSet<&str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

/// "compiles openssl-sys, native-tls" when any of OpenSSL's crates is among `names`.
fn openssl(names: &BTreeSet<&str>) -> Option<String> {
    let found: Vec<&str> = OPENSSL
        .into_iter()
        .filter(|krate| names.contains(krate))
        .collect();
    (!found.is_empty()).then(|| format!("compiles {}", found.join(", ")))
}

/// `cargo tree` of `package`'s normal dependencies, one `name version` per line.
fn tree_args<'a>(manifest: &'a str, package: &'a str) -> Vec<&'a str> {
    vec![
        "tree",
        "--manifest-path",
        manifest,
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]
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
            forwarded: BTreeMap::new(),
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
    fn the_default_compiles_ring_alone_when_tls_is_offered() {
        let mut facade = Facade {
            features: [("kling".to_owned(), set(&["kie-kling"]))].into(),
            forwarded: [
                ("rustls-ring".to_owned(), set(&["ring"])),
                ("rustls-aws-lc".to_owned(), set(&["aws-lc-rs"])),
                ("webpki-roots".to_owned(), set(&[])),
            ]
            .into(),
            default: set(&["kling", "rustls-aws-lc"]),
            provider_deps: BTreeMap::new(),
        };
        let failures = check_facade_shape(&facade);
        assert_eq!(
            failures,
            ["`default` must compile one crypto provider, ring; it compiles (aws-lc-rs)"]
        );
        facade.default = set(&["kling", "rustls-ring", "rustls-aws-lc"]);
        assert_eq!(check_facade_shape(&facade).len(), 1);
        facade.default = set(&["kling", "rustls-ring", "webpki-roots"]);
        assert!(check_facade_shape(&facade).is_empty());
        assert_eq!(facade.crypto(&facade.default), set(&["ring"]));
    }

    #[test]
    fn a_tree_is_held_to_its_crypto_providers_and_refuses_openssl() {
        let tree = format!("{TREE_KLING}rustls v0.23.46\nring v0.17.14\nopenssl-probe v0.2.2\n");
        check_tls("`kie`", &tree, &set(&["ring"])).unwrap();
        let err = check_tls("`kie`", TREE_KLING, &set(&["ring"])).unwrap_err();
        assert_eq!(
            err,
            "`kie` compiles the crypto providers () where its features name (ring)"
        );
        let both = format!("{tree}aws-lc-rs v1.19.0\naws-lc-sys v0.47.0\n");
        let err = check_tls("`kie` with default features", &both, &set(&["ring"])).unwrap_err();
        assert!(err.contains("providers (aws-lc-rs, ring) where"), "{err}");
        let openssl = format!("{tree}native-tls v0.2.14\nopenssl-sys v0.9.111\n");
        let err = check_tls("`kie`", &openssl, &set(&["ring"])).unwrap_err();
        assert_eq!(err, "`kie` compiles openssl-sys, native-tls");
    }

    #[test]
    fn the_emulator_library_must_not_compile_clap() {
        let tree = "kie-emulator v0.1.0 (/w)\naxum v0.8.9\nring v0.17.14\n";
        assert!(check_emulator(tree).is_empty());
        let tree = format!("{tree}clap v4.6.7\nclap_builder v4.6.7\n");
        assert_eq!(
            check_emulator(&tree),
            ["`kie-emulator`'s library compiles clap (only its `cli` feature may)"]
        );
    }

    #[test]
    fn metadata_is_read() {
        let metadata = serde_json::json!({"packages": [
            {"name": "kie", "features": {
                "default": ["kling", "rustls-ring"],
                "kling": ["dep:kie-kling"],
                "rustls-ring": ["kie-core/rustls-ring"],
                "rustls-aws-lc": ["kie-core/rustls-aws-lc"],
                "webpki-roots": ["kie-core/webpki-roots"],
                "axum": ["kie-core/axum"]},
             "dependencies": []},
            {"name": "kie-core", "features": {
                "default": ["rustls-ring"],
                "rustls-ring": ["rustls/ring"],
                "rustls-aws-lc": ["tls-provider", "reqwest/rustls"],
                "tls-provider": ["rustls/aws-lc-rs"],
                "webpki-roots": ["dep:webpki-roots"],
                "axum": ["dep:axum"]},
             "dependencies": []},
            {"name": "kie-kling", "features": {}, "dependencies": [
                {"name": "kie-core", "kind": null},
                {"name": "proptest", "kind": "dev"}]}
        ]});
        let facade = read_facade(&metadata.to_string()).unwrap();
        assert_eq!(
            facade.features,
            [("kling".to_owned(), set(&["kie-kling"]))].into()
        );
        assert_eq!(
            facade.forwarded,
            [
                ("axum".to_owned(), set(&[])),
                ("rustls-aws-lc".to_owned(), set(&["aws-lc-rs"])),
                ("rustls-ring".to_owned(), set(&["ring"])),
                ("webpki-roots".to_owned(), set(&[])),
            ]
            .into()
        );
        assert_eq!(facade.default, set(&["kling", "rustls-ring"]));
        assert_eq!(facade.provider_deps["kie-kling"], set(&["kie-core"]));
        assert!(has_package(&metadata.to_string(), "kie-core").unwrap());
        assert!(!has_package(&metadata.to_string(), "kie-emulator").unwrap());
    }
}
