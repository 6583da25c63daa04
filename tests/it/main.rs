//! The one integration-test binary: data-driven cases, CLI golden tests, properties, limits,
//! fuzz regressions.

mod api;
mod cases;
mod cli;
mod fuzz_regressions;
mod harness;
mod limits;
mod lints;
mod mapping;
mod props;
mod snapshots;
