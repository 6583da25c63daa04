//! Functions of the logic family.
