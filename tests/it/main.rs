//! The one integration-test binary: data-driven cases, CLI golden tests, properties, limits,
//! fuzz regressions.

mod cases;
mod cli;
mod harness;
mod props;
mod fuzz_regressions;
mod limits;
