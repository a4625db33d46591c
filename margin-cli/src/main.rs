//! The `margin` command.
fn main() {}
