//! The facade's integration tests, one binary: every model against its spec and the
//! spec's own JSON Schema (table-driven: a new model adds its cases with no new test
//! code), the invalid-request corpus, the registry, the fault matrix, kie.ai's errors under
//! both of the emulator's status modes, and under
//! `models` what each provider's models do that a table cannot say (their uniform-request
//! mappings, builders and enums).

mod bad_input_corpus;
mod common;
mod differential;
mod end_to_end;
mod error_modes;
mod fault_matrix;
mod media;
mod registry;
mod spec_conformance;
mod models {
    mod bytedance;
    mod hailuo;
    mod kling;
    mod sora;
}
