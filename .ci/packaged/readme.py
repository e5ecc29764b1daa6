#!/usr/bin/env python3
"""Writes a crate's main.rs that compiles every ```rust block of README.md as written.

Each block becomes the body of an async function, after stand-ins for the values the
README's prose gives it (a client, a task, a callback's body and headers, a listener):
`todo!()`, so that nothing runs but every type is checked. A block that names kie-core
fails here: the README promises that `kie` is the only kie crate a user needs (beside
kie-emulator, for tests, in its own section).
"""
import re
import sys

readme, out = sys.argv[1], sys.argv[2]
blocks = re.findall(r"^```rust\n(.*?)^```", open(readme, encoding="utf-8").read(), re.S | re.M)
if not blocks:
    sys.exit(f"{readme} has no rust blocks")
for number, block in enumerate(blocks, 1):
    if "kie_core" in block:
        sys.exit(f"{readme}, rust block {number}, names kie_core: use kie's re-exports")

STAND_INS = """\
    let client: kie::Client = todo!();
    let task: kie::Task = todo!();
    let body: &[u8] = todo!();
    let headers: &kie::http::HeaderMap = todo!();
    let listener: tokio::net::TcpListener = todo!();
"""
with open(out, "w", encoding="utf-8") as main:
    main.write("//! README.md's rust blocks, each compiled as written (see .ci/packaged/readme.py).\n\n")
    main.write("fn main() {}\n")
    for number, block in enumerate(blocks, 1):
        body = "".join(f"    {line}\n" if line else "\n" for line in block.splitlines())
        main.write(
            f"\n#[allow(unused, unreachable_code, clippy::diverging_sub_expression)]\n"
            f"async fn block_{number}() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {{\n"
            f"{STAND_INS}{body}    Ok(())\n}}\n"
        )
print(f"{len(blocks)} rust blocks of {readme}")
