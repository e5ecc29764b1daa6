//! Benchmark 8: what the catalogue costs a build (issue 13). The program of benchmark 7
//! (submit a Kling task, wait, print the video's URL) on `kie` as a path dependency, with
//! `default-features = false`, `rustls-ring` and either the provider `kling` alone or
//! every provider `kie` declares (read from its manifest, so the list follows the
//! catalogue), built cold and then rebuilt after an edit of its main.rs, for each kie-rs
//! checkout given (`--workspace`, repeatable: an old commit beside today's).
//!
//! Cold: dependencies fetched (`cargo fetch`), then `cargo build --offline --timings`
//! into an empty target directory, no `RUSTC_WRAPPER`, `CARGO_INCREMENTAL` unset, the
//! dev profile a user gets. Cargo compiles a path dependency incrementally but a registry
//! one not, and users get `kie` from the registry: the program's manifest sets
//! `incremental = false` for its dependencies (`[profile.dev.package."*"]`), so `kie`
//! builds as it would from crates.io and the program itself incrementally, as `cargo
//! build` does. Incremental: the prompt in main.rs edited, `cargo build --offline` again
//! into the same target directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::BoxError;
use crate::build_cost::{KIE_MAIN, Options, manifest_head, this_workspace, write_crate};
use crate::machine::load_average;
use crate::report::{Figure, Section};

/// The provider of the one-provider build (the program uses one of its models).
const PROVIDER: &str = "kling";
/// The TLS feature of every build (`kie`'s default).
const TLS: &str = "rustls-ring";
/// The prompt in main.rs, edited before the incremental rebuild.
const PROMPT: &str = "a red fox running through snow";
/// Where cargo's `--timings` writes its report, under the target directory.
const TIMINGS: &str = "cargo-timings/cargo-timing.html";

/// A kie-rs checkout to measure.
struct Checkout {
    dir: PathBuf,
    /// Its commit, with "+ changes" when the tracked files differ from it.
    commit: String,
    /// The crate `kie`'s directory.
    kie_dir: PathBuf,
    /// `kie`'s provider features (each enables one provider crate) and their crates'
    /// directories, in the manifest's order.
    providers: Vec<(String, PathBuf)>,
    /// Lines under crates/*/src/generated/ (every crate of the workspace).
    generated_lines: usize,
    /// Generated model files (one per model) in the provider crates.
    models: usize,
    /// Its Cargo.lock, the programs' starting point.
    lock: String,
}

/// Which providers a program enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breadth {
    One,
    All,
}

/// One program to build.
struct Program {
    checkout: usize,
    breadth: Breadth,
    /// `kie`'s provider features it enables.
    providers: Vec<String>,
    /// Lines of generated code in the crates it compiles from the checkout (`kie`'s and
    /// its providers').
    generated_lines: usize,
    dir: PathBuf,
}

/// One build.
struct Build {
    seconds: f64,
    /// The `Compiling` lines cargo printed: every crate built, the program included.
    crates: usize,
    /// The 1-, 5- and 15-minute load averages just before.
    load: String,
    /// Whether cargo waited for a lock another cargo held (time not spent compiling).
    blocked: bool,
}

/// A crate of the checkout in a cold build, from `--timings`.
struct Unit {
    name: String,
    seconds: f64,
    /// Until its metadata was ready (what dependents wait for); the rest is code
    /// generation.
    frontend: Option<f64>,
}

/// One run of a program: cold, then incremental.
struct Sample {
    cold: Build,
    units: Vec<Unit>,
    incremental: Build,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let dirs = if options.workspaces.is_empty() {
        vec![this_workspace()?]
    } else {
        options.workspaces.clone()
    };
    let mut checkouts = Vec::new();
    for dir in &dirs {
        checkouts.push(checkout(dir).await?);
    }
    let scratch = tempfile::Builder::new()
        .prefix("kie-catalogue-cost-")
        .tempdir()?;
    let mut programs = Vec::new();
    // The same breadth on every checkout side by side, so that a change of load falls on
    // the builds that are compared.
    for breadth in [Breadth::One, Breadth::All] {
        for (i, checkout) in checkouts.iter().enumerate() {
            let providers: Vec<&(String, PathBuf)> = match breadth {
                Breadth::One => checkout
                    .providers
                    .iter()
                    .filter(|(f, _)| f == PROVIDER)
                    .collect(),
                Breadth::All => checkout.providers.iter().collect(),
            };
            if breadth == Breadth::One && providers.is_empty() {
                return Err(format!(
                    "`kie` at {} has no provider feature `{PROVIDER}`",
                    checkout.dir.display()
                )
                .into());
            }
            let generated_lines = lines_under(&checkout.kie_dir.join("src/generated"))?
                + providers
                    .iter()
                    .map(|(_, dir)| lines_under(&dir.join("src/generated")))
                    .sum::<Result<usize, BoxError>>()?;
            let providers: Vec<String> = providers.into_iter().map(|(f, _)| f.clone()).collect();
            let name = format!(
                "w{i}-{}",
                if breadth == Breadth::One {
                    "one"
                } else {
                    "all"
                }
            );
            let dir = write_program(&scratch.path().join(name), checkout, &providers)?;
            programs.push(Program {
                checkout: i,
                breadth,
                providers,
                generated_lines,
                dir,
            });
        }
    }
    for program in &programs {
        eprintln!("kie-bench: fetching for {}", describe(program, &checkouts));
        let out = cargo(&program.dir).arg("fetch").output().await?;
        check(program, &checkouts, "cargo fetch", &out)?;
    }
    let mut samples: Vec<Vec<Sample>> = programs.iter().map(|_| Vec::new()).collect();
    for run in 0..options.runs {
        // Every other run backwards, so that a change of load falls on every program.
        let mut order: Vec<usize> = (0..programs.len()).collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for i in order {
            eprintln!(
                "kie-bench: cold and incremental builds of {}",
                describe(&programs[i], &checkouts)
            );
            samples[i].push(measure(&programs[i], &checkouts, run).await?);
        }
    }
    Ok(section(&checkouts, &programs, &samples, options))
}

/// Reads what the benchmark needs of the checkout at `dir`.
async fn checkout(dir: &Path) -> Result<Checkout, BoxError> {
    let dir = dir.canonicalize()?;
    let out = tokio::process::Command::new(cargo_program())
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let metadata: Value = serde_json::from_slice(&out.stdout)?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?;
    let package_dir = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["manifest_path"].as_str())
            .and_then(|m| Path::new(m).parent())
            .map(Path::to_owned)
    };
    let kie = packages
        .iter()
        .find(|p| p["name"] == "kie")
        .ok_or_else(|| format!("no crate `kie` in {}", dir.display()))?;
    let kie_dir = package_dir("kie").ok_or("`kie` has no manifest path")?;
    // A provider feature enables one crate of the workspace and nothing else:
    // `kling = ["dep:kie-kling"]`.
    let mut providers = Vec::new();
    for (feature, enables) in kie["features"].as_object().ok_or("`kie` has no features")? {
        if let Some([only]) = enables.as_array().map(Vec::as_slice)
            && let Some(krate) = only.as_str().and_then(|s| s.strip_prefix("dep:"))
            && let Some(krate_dir) = package_dir(krate)
        {
            providers.push((feature.clone(), krate_dir));
        }
    }
    // cargo metadata sorts the features; the manifest's order reads better.
    let manifest = std::fs::read_to_string(kie_dir.join("Cargo.toml"))?;
    providers.sort_by_key(|(f, _)| manifest.find(&format!("\n{f} = ")));
    let mut generated_lines = 0;
    let mut models = 0;
    for package in packages {
        let Some(krate_dir) = package["manifest_path"]
            .as_str()
            .and_then(|m| Path::new(m).parent())
        else {
            continue;
        };
        let generated = krate_dir.join("src/generated");
        generated_lines += lines_under(&generated)?;
        if providers.iter().any(|(_, d)| d == krate_dir) {
            models += rust_files(&generated)?
                .iter()
                .filter(|f| f.file_name().is_some_and(|n| n != "mod.rs"))
                .count();
        }
    }
    Ok(Checkout {
        commit: commit(&dir).await?,
        lock: std::fs::read_to_string(dir.join("Cargo.lock"))?,
        dir,
        kie_dir,
        providers,
        generated_lines,
        models,
    })
}

/// The short commit of the checkout at `dir`, with "+ changes" when its tracked files
/// differ from it.
async fn commit(dir: &Path) -> Result<String, BoxError> {
    let git = |args: &[&str]| {
        tokio::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).await?;
    if !head.status.success() {
        return Ok("unknown".to_owned());
    }
    let mut commit = String::from_utf8(head.stdout)?.trim().to_owned();
    let status = git(&["status", "--porcelain", "--untracked-files=no"]).await?;
    if !status.stdout.is_empty() {
        commit.push_str(" + changes");
    }
    Ok(commit)
}

/// The `.rs` files under `dir`, recursively (none when it does not exist).
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, BoxError> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// Lines of the `.rs` files under `dir`.
fn lines_under(dir: &Path) -> Result<usize, BoxError> {
    let mut lines = 0;
    for file in rust_files(dir)? {
        lines += std::fs::read_to_string(file)?.lines().count();
    }
    Ok(lines)
}

/// Writes the program into `dir`, on the checkout's `kie` with `providers`.
fn write_program(
    dir: &Path,
    checkout: &Checkout,
    providers: &[String],
) -> Result<PathBuf, BoxError> {
    let features: Vec<String> = providers
        .iter()
        .map(String::as_str)
        .chain([TLS])
        .map(|f| format!("{f:?}"))
        .collect();
    let manifest = format!(
        "{}kie = {{ path = {:?}, default-features = false, features = [{}] }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n\
         # As from the registry: cargo compiles path dependencies incrementally.\n\
         [profile.dev.package.\"*\"]\nincremental = false\n",
        manifest_head(),
        checkout.kie_dir.display().to_string(),
        features.join(", ")
    );
    write_crate(dir, &manifest, KIE_MAIN, &checkout.lock)
}

/// A cold build of `program` then an incremental one after an edit of its main.rs; the
/// target directory is removed before and after.
async fn measure(
    program: &Program,
    checkouts: &[Checkout],
    run: usize,
) -> Result<Sample, BoxError> {
    let target = program.dir.join("target");
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    std::fs::write(program.dir.join("src/main.rs"), KIE_MAIN)?;
    let cold = build(program, checkouts, &["--timings"]).await?;
    let units = units(&target.join(TIMINGS));
    let edited = KIE_MAIN.replace(PROMPT, &format!("{PROMPT}, take {}", run + 2));
    std::fs::write(program.dir.join("src/main.rs"), edited)?;
    let incremental = build(program, checkouts, &[]).await?;
    std::fs::remove_dir_all(&target)?;
    Ok(Sample {
        cold,
        units,
        incremental,
    })
}

async fn build(
    program: &Program,
    checkouts: &[Checkout],
    extra: &[&str],
) -> Result<Build, BoxError> {
    let load = load_average();
    let started = Instant::now();
    let out = cargo(&program.dir)
        .args(["build", "--offline"])
        .args(extra)
        .output()
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    check(program, checkouts, "cargo build", &out)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(Build {
        seconds,
        crates: stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("Compiling "))
            .count(),
        load,
        blocked: stderr.contains("Blocking waiting for file lock"),
    })
}

/// The checkout's crates (`kie`, `kie-*`) in cargo's `--timings` report, in build order;
/// none when the report cannot be read (its format is cargo's, not a stable one).
fn units(report: &Path) -> Vec<Unit> {
    const START: &str = "const UNIT_DATA = ";
    let Ok(html) = std::fs::read_to_string(report) else {
        return Vec::new();
    };
    let Some(json) = html.split_once(START).and_then(|(_, rest)| {
        rest.find("\n];")
            .map(|end| rest.get(..end + 2).unwrap_or_default())
    }) else {
        return Vec::new();
    };
    let Ok(data) = serde_json::from_str::<Vec<Value>>(json) else {
        return Vec::new();
    };
    data.iter()
        .filter(|u| {
            u["name"]
                .as_str()
                .is_some_and(|n| n == "kie" || n.starts_with("kie-"))
                && u["target"] == ""
        })
        .map(|u| Unit {
            name: u["name"].as_str().unwrap_or_default().to_owned(),
            seconds: u["duration"].as_f64().unwrap_or_default(),
            frontend: u["sections"].as_array().and_then(|sections| {
                sections
                    .iter()
                    .find(|s| s[0] == "frontend")
                    .and_then(|s| s[1]["end"].as_f64())
            }),
        })
        .collect()
}

fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// cargo in `dir`, into `dir/target`, as a user runs it: the profile's own incremental
/// setting, no compiler cache.
fn cargo(dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(cargo_program());
    command
        .current_dir(dir)
        .env_remove("CARGO_INCREMENTAL")
        .env_remove("CARGO_BUILD_INCREMENTAL")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", dir.join("target"));
    command
}

fn describe(program: &Program, checkouts: &[Checkout]) -> String {
    let checkout = &checkouts[program.checkout];
    format!(
        "`kie` at {} ({} models), {}",
        checkout.commit,
        checkout.models,
        breadth(program)
    )
}

fn breadth(program: &Program) -> String {
    match program.breadth {
        Breadth::One => format!("`{}` alone", program.providers.join("")),
        Breadth::All => format!("all {} providers", program.providers.len()),
    }
}

fn check(
    program: &Program,
    checkouts: &[Checkout],
    what: &str,
    out: &std::process::Output,
) -> Result<(), BoxError> {
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    Err(format!(
        "{what} failed for {} ({}):\n{}",
        describe(program, checkouts),
        program.dir.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
    .into())
}

fn cold(sample: &Sample) -> &Build {
    &sample.cold
}

fn incremental(sample: &Sample) -> &Build {
    &sample.incremental
}

fn section(
    checkouts: &[Checkout],
    programs: &[Program],
    samples: &[Vec<Sample>],
    options: &Options,
) -> Section {
    let seconds = |runs: &[Sample], pick: fn(&Sample) -> &Build| {
        runs.iter()
            .map(|s| format!("{:.1}", pick(s).seconds))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let crates =
        |runs: &[Sample], pick: fn(&Sample) -> &Build| runs.first().map_or(0, |s| pick(s).crates);
    let mut figures = Vec::new();
    for (program, runs) in programs.iter().zip(samples) {
        figures.push(Figure::info(
            format!(
                "cold / incremental build, s, {}",
                describe(program, checkouts)
            ),
            format!(
                "{} / {} ({} / {} crates; `kie`'s crates {} s of the cold build)",
                seconds(runs, cold),
                seconds(runs, incremental),
                crates(runs, cold),
                crates(runs, incremental),
                runs.iter()
                    .map(|s| format!("{:.1}", s.units.iter().map(|u| u.seconds).sum::<f64>()))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
        ));
    }
    // The bound: every provider, cold, the last checkout against the first. The
    // two are built one after the other in every run, so each run gives a ratio under
    // one load; the worst of them is held to the bound.
    let all: Vec<(&Program, &Vec<Sample>)> = programs
        .iter()
        .zip(samples)
        .filter(|(p, _)| p.breadth == Breadth::All)
        .collect();
    if let (Some((first, before)), Some((last, after))) = (all.first(), all.last())
        && first.checkout != last.checkout
    {
        let pairs: Vec<(f64, f64)> = after
            .iter()
            .zip(before.iter())
            .map(|(a, b)| (a.cold.seconds, b.cold.seconds))
            .collect();
        let worst = pairs.iter().map(|(a, b)| a / b).fold(f64::NAN, f64::max);
        figures.push(Figure::checked(
            format!(
                "cold build with every provider, {} ÷ {} (worst run)",
                checkouts[last.checkout].commit, checkouts[first.checkout].commit
            ),
            format!(
                "{worst:.2} (per run {})",
                pairs
                    .iter()
                    .map(|(a, b)| format!("{:.2}: {a:.1} s / {b:.1} s", a / b))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "≤ 2",
            worst <= 2.0,
        ));
    }
    let mut details = format!(
        "The program of section 7 (submit a Kling task, wait, print the video's URL) on \
         `kie` as a path dependency (`default-features = false`, `{TLS}`, and the provider \
         `{PROVIDER}` alone or every provider feature `kie`'s manifest declares), tokio, \
         started from the checkout's Cargo.lock. {} run(s) of: a cold `cargo build \
         --timings` (dev profile, dependencies fetched, an empty target directory, \
         `CARGO_INCREMENTAL` unset: the program incremental, its dependencies not, as \
         from the registry), then the prompt in main.rs edited and `cargo build` again; \
         interleaved. Crates: the `Compiling` lines, the program included. Generated \
         lines: the `.rs` lines under `src/generated/` of the crates the program compiles \
         from the checkout (`kie` and its providers).\n\n\
         | checkout | commit | models | generated lines (crates/*/src/generated) | provider features |\n\
         |---|---|---|---|---|\n",
        options.runs
    );
    for checkout in checkouts {
        let _ = writeln!(
            details,
            "| {} | {} | {} | {} | {} |",
            checkout.dir.display(),
            checkout.commit,
            checkout.models,
            checkout.generated_lines,
            checkout
                .providers
                .iter()
                .map(|(f, _)| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    details.push_str(
        "\n| `kie` at | providers | generated lines compiled | cold build, s | crates | \
         incremental rebuild, s | crates | load average before cold / incremental |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (program, runs) in programs.iter().zip(samples) {
        let loads = runs
            .iter()
            .map(|s| format!("{} / {}", s.cold.load, s.incremental.load))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            details,
            "| {} | {} | {} | {} | {} | {} | {} | {loads} |",
            checkouts[program.checkout].commit,
            breadth(program),
            program.generated_lines,
            seconds(runs, cold),
            crates(runs, cold),
            seconds(runs, incremental),
            crates(runs, incremental),
        );
    }
    details.push_str(
        "\nThe checkout's crates in the cold builds (cargo `--timings`: seconds, of which \
         until the metadata dependents wait for; the rest is code generation), first run:\n\n\
         | `kie` at | providers | crate: s (front end) | sum, s |\n|---|---|---|---|\n",
    );
    for (program, runs) in programs.iter().zip(samples) {
        let Some(sample) = runs.first() else { continue };
        let units = sample
            .units
            .iter()
            .map(|u| match u.frontend {
                Some(f) => format!("{} {:.1} ({f:.1})", u.name, u.seconds),
                None => format!("{} {:.1}", u.name, u.seconds),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sum: f64 = sample.units.iter().map(|u| u.seconds).sum();
        let _ = writeln!(
            details,
            "| {} | {} | {units} | {sum:.1} |",
            checkouts[program.checkout].commit,
            breadth(program)
        );
    }
    if samples
        .iter()
        .flatten()
        .any(|s| s.cold.blocked || s.incremental.blocked)
    {
        details.push_str(
            "\nSome builds waited for a lock another cargo held; their times include the wait.\n",
        );
    }
    Section {
        title: "8. build cost of one provider and of the whole catalogue",
        figures,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_checkouts_crates_from_cargos_timings() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("cargo-timing.html");
        std::fs::write(
            &report,
            "<script>\nconst UNIT_DATA = [\n  {\"name\": \"serde\", \"target\": \"\", \
             \"duration\": 2.0, \"sections\": null},\n  {\"name\": \"kie-kling\", \
             \"target\": \"\", \"duration\": 2.5, \"sections\": [[\"frontend\", \
             {\"start\": 0.0, \"end\": 1.1}], [\"codegen\", {\"start\": 1.1, \"end\": \
             2.5}]]},\n  {\"name\": \"kie\", \"target\": \"\", \"duration\": 0.2, \
             \"sections\": null}\n];\nconst CONCURRENCY_DATA = [\n];\n</script>",
        )
        .unwrap();
        let units = units(&report);
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["kie-kling", "kie"]);
        assert_eq!(units[0].seconds, 2.5);
        assert_eq!(units[0].frontend, Some(1.1));
        assert_eq!(units[1].frontend, None);
    }

    #[tokio::test]
    async fn finds_this_workspaces_providers_and_models() {
        let checkout = checkout(&this_workspace().unwrap()).await.unwrap();
        let features: Vec<&str> = checkout.providers.iter().map(|(f, _)| f.as_str()).collect();
        assert!(features.contains(&PROVIDER), "{features:?}");
        assert!(!features.contains(&TLS), "{features:?}");
        assert!(checkout.models >= features.len());
        assert!(checkout.generated_lines > 0);
    }
}
