//! `cargo xtask codegen [--check] [--root DIR]`, `cargo xtask features [--root DIR]` and
//! `cargo xtask import [--check] [--draft] [--out DIR] [--docs DIR] [--root DIR] [<page.md>...]`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask codegen [--check] [--root DIR]
       cargo xtask features [--root DIR]
       cargo xtask import [--draft] [--out DIR] [--root DIR] <page.md>...
       cargo xtask import --check [--docs DIR] [--root DIR] [<page.md>...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (task, rest) = args.split_first().ok_or(USAGE)?;
    let mut check = false;
    let mut root = None;
    let mut import = xtask::import::Options::default();
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().map(PathBuf::from).ok_or(USAGE);
        match arg.as_str() {
            "--check" if task == "codegen" || task == "import" => check = true,
            "--root" => root = Some(value()?),
            "--out" if task == "import" => import.out = Some(value()?),
            "--docs" if task == "import" => import.docs = Some(value()?),
            "--draft" if task == "import" => import.draft = true,
            page if task == "import" && !page.starts_with("--") => {
                import.pages.push(PathBuf::from(page));
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let root = match root {
        Some(root) => root,
        None => xtask::workspace_root()?,
    };
    match task.as_str() {
        "codegen" => {
            let changed = xtask::codegen::run(&root, check)?;
            if check {
                eprintln!("codegen: generated code is up to date");
            } else if changed.is_empty() {
                eprintln!("codegen: nothing changed");
            } else {
                for path in changed {
                    eprintln!("codegen: wrote {path}");
                }
            }
            Ok(())
        }
        "features" => xtask::features::run(&root),
        "import" => {
            import.check = check;
            if check && (import.out.is_some() || import.draft) {
                return Err(format!(
                    "import --check takes neither --out nor --draft\n{USAGE}"
                ));
            }
            let outcome = xtask::import::run(&root, &import)?;
            for line in &outcome.lines {
                eprintln!("{line}");
            }
            if outcome.ok {
                Ok(())
            } else if check {
                Err(
                    "import --check: kie.ai's pages and spec/ differ (or a page failed); see above"
                        .into(),
                )
            } else {
                Err("import: some pages failed; see above".into())
            }
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    }
}
