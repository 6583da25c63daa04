//! The one integration-test binary: data-driven cases, CLI golden tests, properties.

mod api;
mod cases;
mod cli;
mod harness;
mod lints;
mod mapping;
mod snapshots;
