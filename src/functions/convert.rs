//! Functions of the convert family.
