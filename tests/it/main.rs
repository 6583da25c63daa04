//! The one integration-test binary: data-driven cases, CLI golden tests, properties.

mod cases;
mod cli;
mod harness;
mod mapping;
