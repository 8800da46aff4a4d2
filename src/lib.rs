//! sandbox-template
