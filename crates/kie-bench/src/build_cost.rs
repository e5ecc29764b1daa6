//! Benchmark 7: what `kie` costs a user to build. A program that submits a Kling task,
//! waits for it and prints the video's URL, written with `kie` (one provider) and written
//! with reqwest, serde and tokio directly, each built cold, for every TLS choice `kie`
//! offers; with `--baseline REV`, also `kie` as it was at that commit.
//!
//! Each program is a crate of its own in a temporary directory (removed afterwards),
//! started from the workspace's Cargo.lock so that both sides compile the same versions.
//! Cold means: dependencies already fetched (`cargo fetch`, then `cargo build
//! --offline`), an empty target directory for every build, `CARGO_INCREMENTAL=0`, no
//! `RUSTC_WRAPPER`, and the dev profile a user gets (the crate sets none).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use crate::BoxError;
use crate::machine::load_average;
use crate::report::{Figure, Section};

/// Sizes of `kie-bench build-cost`.
#[derive(Debug, Clone, Args)]
pub struct Options {
    /// Cold builds of each program, interleaved.
    #[arg(long, default_value_t = 1)]
    pub(crate) runs: usize,
    /// Also build `kie` as it was at this git revision, with the feature `kling` alone
    /// (for a commit before the TLS features: reqwest's default provider, aws-lc).
    #[arg(long, value_name = "REV", conflicts_with = "catalogue")]
    baseline: Option<String>,
    /// Instead: a program on `kie` with the provider `kling` alone and with every
    /// provider, built cold and rebuilt after an edit of its main.rs, for each
    /// `--workspace` (section 8).
    #[arg(long)]
    pub(crate) catalogue: bool,
    /// A kie-rs checkout whose `kie` is built (default: this workspace). With
    /// `--catalogue`, repeat it to measure several checkouts, interleaved.
    #[arg(long = "workspace", value_name = "DIR")]
    pub(crate) workspaces: Vec<PathBuf>,
}

/// A TLS choice, as `kie` offers it and as a user of reqwest writes it.
struct Tls {
    name: &'static str,
    /// `kie`'s features for it.
    kie_features: &'static [&'static str],
    /// reqwest's TLS feature.
    reqwest_feature: &'static str,
    /// The raw program's other dependencies for it (Cargo.toml lines).
    raw_dependencies: &'static str,
    /// The raw program's `fn http()`.
    raw_client: &'static str,
}

const CHOICES: [Tls; 3] = [
    Tls {
        name: "rustls-ring (default)",
        kie_features: &["rustls-ring"],
        reqwest_feature: "rustls-no-provider",
        raw_dependencies: r#"rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }"#,
        raw_client: r#"
fn http() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    // reqwest 0.13 offers ring only without a provider of its own: install it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder().build()?)
}
"#,
    },
    Tls {
        name: "rustls-ring + webpki-roots",
        kie_features: &["rustls-ring", "webpki-roots"],
        reqwest_feature: "rustls-no-provider",
        raw_dependencies: r#"rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }
webpki-roots = "1""#,
        raw_client: r#"
fn http() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    let roots: rustls::RootCertStore = webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls).build()?)
}
"#,
    },
    Tls {
        name: "rustls-aws-lc",
        kie_features: &["rustls-aws-lc"],
        reqwest_feature: "rustls",
        raw_dependencies: "",
        raw_client: r#"
fn http() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    Ok(reqwest::Client::builder().build()?)
}
"#,
    },
];

/// The program with `kie`: what the README's quickstart does.
pub(crate) const KIE_MAIN: &str = r#"use kie::Client;
use kie::kling::KlingV21MasterTextToVideoInput;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let input = KlingV21MasterTextToVideoInput::new("a red fox running through snow");
    let task = client.submit(&input).await?;
    let video = task.wait().await?;
    println!("{}", video.video_url());
    Ok(())
}
"#;

/// The same program by hand: createTask, then recordInfo every 5 s until the task ends.
const RAW_MAIN: &str = r#"use std::time::Duration;

use serde::{Deserialize, Serialize};

const JOBS: &str = "https://api.kie.ai/api/v1/jobs";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateTask<'a> {
    model: &'a str,
    input: Input<'a>,
}

#[derive(Serialize)]
struct Input<'a> {
    prompt: &'a str,
}

#[derive(Deserialize)]
struct Envelope<T> {
    code: u16,
    msg: String,
    data: Option<T>,
}

impl<T> Envelope<T> {
    fn data(self) -> Result<T, String> {
        match self.data {
            Some(data) if self.code == 200 => Ok(data),
            _ => Err(format!("kie.ai answered {}: {}", self.code, self.msg)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    task_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    state: String,
    result_json: Option<String>,
    fail_msg: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Results {
    result_urls: Vec<String>,
}
HTTP_CLIENT
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("KIE_API_KEY")?;
    let http = http()?;
    let body = CreateTask {
        model: "kling/v2-1-master-text-to-video",
        input: Input { prompt: "a red fox running through snow" },
    };
    let created: Envelope<Created> = http
        .post(format!("{JOBS}/createTask"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let id = created.data()?.task_id;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let record: Envelope<Record> = http
            .get(format!("{JOBS}/recordInfo"))
            .bearer_auth(&key)
            .query(&[("taskId", &id)])
            .send()
            .await?
            .json()
            .await?;
        let record = record.data()?;
        match record.state.as_str() {
            "success" => {
                let results: Results = serde_json::from_str(&record.result_json.unwrap_or_default())?;
                println!("{}", results.result_urls.first().ok_or("no result URL")?);
                return Ok(());
            }
            "fail" => return Err(record.fail_msg.unwrap_or_default().into()),
            _ => {}
        }
    }
}
"#;

/// One program to build.
struct Program {
    /// The TLS choice, as the table names it.
    tls: String,
    side: Side,
    dir: PathBuf,
}

/// What a program is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Kie,
    ByHand,
}

impl Side {
    fn describe(self) -> &'static str {
        match self {
            Side::Kie => "`kie` (`kling`)",
            Side::ByHand => "reqwest + serde + serde_json + tokio",
        }
    }
}

/// One cold build.
struct Build {
    seconds: f64,
    /// The `Compiling` lines cargo printed: every crate built, the program included.
    crates: usize,
    /// The 1-, 5- and 15-minute load averages just before.
    load: String,
    /// Whether cargo waited for a lock another cargo held (time not spent compiling).
    blocked: bool,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    if options.catalogue {
        return crate::catalogue::run(options).await;
    }
    let root = match options.workspaces.as_slice() {
        [] => this_workspace()?,
        [one] => one.clone(),
        _ => return Err("several --workspace need --catalogue".into()),
    };
    let root = root.as_path();
    let scratch = tempfile::Builder::new()
        .prefix("kie-build-cost-")
        .tempdir()?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let kie = root.join("crates/kie");
    let mut programs = Vec::new();
    for (n, tls) in CHOICES.iter().enumerate() {
        programs.push(Program {
            tls: tls.name.to_owned(),
            side: Side::Kie,
            dir: write_kie(
                &scratch.path().join(format!("kie-{n}")),
                &kie,
                tls.kie_features,
                &lock,
            )?,
        });
        programs.push(Program {
            tls: tls.name.to_owned(),
            side: Side::ByHand,
            dir: write_raw(&scratch.path().join(format!("raw-{n}")), tls, &lock)?,
        });
    }
    if let Some(rev) = &options.baseline {
        let tree = export(root, rev, &scratch.path().join("baseline")).await?;
        let lock = std::fs::read_to_string(tree.join("Cargo.lock"))?;
        programs.push(Program {
            tls: format!("the default at {}", short_rev(root, rev).await?),
            side: Side::Kie,
            dir: write_kie(
                &scratch.path().join("kie-baseline"),
                &tree.join("crates/kie"),
                &[],
                &lock,
            )?,
        });
    }
    for program in &programs {
        eprintln!(
            "kie-bench: fetching for {}, {}",
            program.side.describe(),
            program.tls
        );
        let out = cargo(&program.dir).arg("fetch").output().await?;
        check(program, "cargo fetch", &out)?;
    }
    let mut builds: Vec<Vec<Build>> = programs.iter().map(|_| Vec::new()).collect();
    for run in 0..options.runs {
        // Every other run backwards, so that a change of load falls on every program.
        let mut order: Vec<usize> = (0..programs.len()).collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let program = &programs[i];
            eprintln!(
                "kie-bench: cold build of {}, {}",
                program.side.describe(),
                program.tls
            );
            builds[i].push(cold_build(program).await?);
        }
    }
    Ok(section(&programs, &builds, options))
}

/// The workspace kie-bench was built from.
pub(crate) fn this_workspace() -> Result<PathBuf, BoxError> {
    Ok(Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .ok_or("kie-bench is not in a workspace")?
        .to_owned())
}

/// Writes the program with `kie` into `dir`, depending on the `kie` at `kie`.
fn write_kie(dir: &Path, kie: &Path, tls: &[&str], lock: &str) -> Result<PathBuf, BoxError> {
    let features: Vec<String> = std::iter::once("kling")
        .chain(tls.iter().copied())
        .map(|f| format!("{f:?}"))
        .collect();
    let manifest = format!(
        "{}kie = {{ path = {:?}, default-features = false, features = [{}] }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
        manifest_head(),
        kie.display().to_string(),
        features.join(", ")
    );
    write_crate(dir, &manifest, KIE_MAIN, lock)
}

/// Writes the program by hand into `dir`.
fn write_raw(dir: &Path, tls: &Tls, lock: &str) -> Result<PathBuf, BoxError> {
    let manifest = format!(
        "{}reqwest = {{ version = \"0.13\", default-features = false, features = [\"json\", \"query\", \"{}\"] }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\n\
         serde_json = \"1\"\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"time\"] }}\n\
         {}\n",
        manifest_head(),
        tls.reqwest_feature,
        tls.raw_dependencies
    );
    write_crate(
        dir,
        &manifest,
        &RAW_MAIN.replace("HTTP_CLIENT", tls.raw_client),
        lock,
    )
}

/// A package of its own workspace, with no profile: what a user starts from.
pub(crate) fn manifest_head() -> &'static str {
    "[package]\nname = \"scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
     [workspace]\n\n[dependencies]\n"
}

pub(crate) fn write_crate(
    dir: &Path,
    manifest: &str,
    main: &str,
    lock: &str,
) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("src/main.rs"), main)?;
    // Cargo keeps the versions it finds here and drops the packages it does not need.
    std::fs::write(dir.join("Cargo.lock"), lock)?;
    Ok(dir.to_owned())
}

/// Extracts the workspace at `rev` into `dir`.
async fn export(root: &Path, rev: &str, dir: &Path) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let tar = dir.with_extension("tar");
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "--format=tar", "--output"])
        .arg(&tar)
        .arg(rev)
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!(
            "git archive {rev}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let out = tokio::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(dir)
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!("tar: {}", String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    std::fs::remove_file(&tar)?;
    Ok(dir.to_owned())
}

async fn short_rev(root: &Path, rev: &str) -> Result<String, BoxError> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short"])
        .arg(rev)
        .output()
        .await?;
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Builds `program` from an empty target directory, and removes the directory after.
async fn cold_build(program: &Program) -> Result<Build, BoxError> {
    let target = program.dir.join("target");
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    let load = load_average();
    let started = Instant::now();
    let out = cargo(&program.dir)
        .args(["build", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    check(program, "cargo build", &out)?;
    std::fs::remove_dir_all(&target)?;
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

/// cargo in `dir`, cold: nothing incremental, no compiler cache.
fn cargo(dir: &Path) -> tokio::process::Command {
    let mut command =
        tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(dir)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("CARGO_TARGET_DIR");
    command
}

fn check(program: &Program, what: &str, out: &std::process::Output) -> Result<(), BoxError> {
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    Err(format!(
        "{what} failed for {}, {} ({}):\n{}",
        program.side.describe(),
        program.tls,
        program.dir.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
    .into())
}

fn section(programs: &[Program], builds: &[Vec<Build>], options: &Options) -> Section {
    let seconds = |runs: &[Build]| {
        runs.iter()
            .map(|b| format!("{:.1}", b.seconds))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let crates = |runs: &[Build]| runs.first().map_or(0, |b| b.crates);
    let find = |tls: &str, side: Side| {
        programs
            .iter()
            .zip(builds)
            .find(|(p, _)| p.tls == tls && p.side == side)
            .map(|(_, runs)| runs.as_slice())
    };
    let mut figures = Vec::new();
    let mut seen = Vec::new();
    for program in programs {
        if seen.contains(&&program.tls) {
            continue;
        }
        seen.push(&program.tls);
        let figure = match (
            find(&program.tls, Side::Kie),
            find(&program.tls, Side::ByHand),
        ) {
            (Some(kie), Some(by_hand)) => Figure::info(
                format!("cold build, s, {}: `kie` / by hand", program.tls),
                format!(
                    "{} / {} ({} / {} crates)",
                    seconds(kie),
                    seconds(by_hand),
                    crates(kie),
                    crates(by_hand)
                ),
            ),
            (Some(kie), None) => Figure::info(
                format!("cold build, s, {}: `kie`", program.tls),
                format!("{} ({} crates)", seconds(kie), crates(kie)),
            ),
            _ => continue,
        };
        figures.push(figure);
    }
    let mut details = format!(
        "A program that submits a Kling task, waits for it and prints the video's URL, \
         written with `kie` (`default-features = false`, features `kling` and the TLS \
         choice, as a path dependency; tokio) and by hand (reqwest with `json`, `query` \
         and the same TLS, serde, serde_json, tokio), each a crate of its own started \
         from the workspace's Cargo.lock. {} cold `cargo build` of each (dev profile, \
         `CARGO_INCREMENTAL=0`, dependencies fetched, an empty target directory), \
         interleaved. Crates: the `Compiling` lines, the program included.\n\n\
         | TLS | written with | cold build, s | crates compiled | load average before |\n\
         |---|---|---|---|---|\n",
        options.runs
    );
    for (program, runs) in programs.iter().zip(builds) {
        let loads = runs
            .iter()
            .map(|b| b.load.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        let _ = writeln!(
            details,
            "| {} | {} | {} | {} | {loads} |",
            program.tls,
            program.side.describe(),
            seconds(runs),
            crates(runs)
        );
    }
    if builds.iter().flatten().any(|b| b.blocked) {
        details.push_str(
            "\nSome builds waited for a lock another cargo held; their times include the wait.\n",
        );
    }
    Section {
        title: "7. cold build of a one-provider program",
        figures,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_names_features_that_kie_has() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kie/Cargo.toml"))
                .unwrap();
        for tls in &CHOICES {
            for feature in tls.kie_features {
                let declared = format!("{feature} = [");
                assert!(
                    manifest.lines().any(|l| l.starts_with(&declared)),
                    "`kie` has no feature `{feature}` ({})",
                    tls.name
                );
            }
        }
    }
}
