//! `margin demo`: the README's first command. Margins the bundled sample account
//! (`examples/portfolio-btc.json`: a short strangle, a calendar spread and a perpetual hedge)
//! on the bundled Deribit snapshot (`data/deribit/…20260822T153351Z.csv`) under
//! `deribit-btc`, prints the report and writes an SVG heatmap of its risk matrix. Both files
//! are embedded in the binary, so the command works from any directory.

use super::compute::{self, render, report_for};
use crate::error::CliError;
use crate::output;
use margin_core::io::{parse_deribit_chain, parse_portfolio_json};
use margin_core::model::Model;
use std::path::{Path, PathBuf};

/// The bundled sample account.
pub const PORTFOLIO: &str = include_str!("../../../examples/portfolio-btc.json");
/// Its name in reports.
pub const PORTFOLIO_NAME: &str = "examples/portfolio-btc.json";
/// The bundled Deribit option-chain snapshot.
pub const CHAIN: &str =
    include_str!("../../../data/deribit/deribit_options_snapshot_20260822T153351Z.csv");
/// Its name in reports.
pub const CHAIN_NAME: &str = "data/deribit/deribit_options_snapshot_20260822T153351Z.csv";

/// Arguments of `margin demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    margin demo                       # report on stdout, heatmap in margin-demo.svg\n  \
    margin demo --svg /tmp/risk.svg --json\n\n\
The same as `margin compute --portfolio examples/portfolio-btc.json --market \
data/deribit/deribit_options_snapshot_20260822T153351Z.csv --model deribit-btc --svg \
margin-demo.svg`, with both files built into the binary.")]
pub struct DemoArgs {
    /// Where to write the heatmap.
    #[arg(long, value_name = "FILE", default_value = "margin-demo.svg")]
    pub svg: PathBuf,
    /// Print the report as JSON (same schema as `margin compute --json`).
    #[arg(long)]
    pub json: bool,
}

/// The demo's report.
pub fn demo_report() -> Result<compute::Report, CliError> {
    let internal =
        |e: margin_core::io::FormatError| CliError::internal(format!("bundled sample data: {e}"));
    let portfolio = parse_portfolio_json(PORTFOLIO, Path::new(PORTFOLIO_NAME)).map_err(internal)?;
    let market = parse_deribit_chain(CHAIN, Path::new(CHAIN_NAME)).map_err(internal)?;
    let model = Model::preset("deribit-btc")
        .map_err(|e| CliError::internal(format!("preset deribit-btc: {e}")))?;
    report_for(
        &portfolio,
        Path::new(PORTFOLIO_NAME),
        market,
        CHAIN_NAME,
        model,
    )
}

/// Runs `margin demo`.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let report = demo_report()?;
    compute::write_svg(&report, &args.svg)?;
    if args.json {
        return output::print_json(&report);
    }
    output::print(&format!(
        "{}\nheatmap of the risk matrix written to {}\n",
        render(&report),
        args.svg.display()
    ))
}
