//! One module per subcommand. Each has an `Args` struct (clap derive) and a `run` function.

pub mod price;
