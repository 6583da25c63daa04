//! Functions of the string family.
