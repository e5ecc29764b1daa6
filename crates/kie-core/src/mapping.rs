//! Shared helpers that map a uniform [`crate::VideoRequest`] onto a model's own input.
