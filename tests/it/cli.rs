//! CLI golden tests.
