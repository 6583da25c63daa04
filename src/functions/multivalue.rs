//! Functions of the multivalue family.
