//! C ABI for the margin engine. Filled by the FFI issue.
#![deny(missing_docs)]
