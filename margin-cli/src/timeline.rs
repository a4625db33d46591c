//! A hand-written SVG of a portfolio backtest: each day's margin (a blue line) and realised
//! loss (grey points) over time, exceptions (loss > margin) as red points, on one amount axis
//! with dates below. Plain SVG 1.1, no script, no external resources; user text is
//! XML-escaped.

use crate::commands::statistical::day;
use crate::svg::{amount, document, escape};
use margin_opt::backtest::portfolio::Report;
use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 420.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = 50.0;

/// The SVG of `report` for account `account`, amounts in `currency`.
pub fn backtest(report: &Report, currency: &str, account: &str) -> String {
    let days = &report.days;
    let n = days.len().max(2) as f64;
    let lo = days
        .iter()
        .map(|d| d.loss.min(d.margin))
        .fold(0.0, f64::min);
    let hi = days
        .iter()
        .map(|d| d.loss.max(d.margin))
        .fold(0.0, f64::max);
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x_of = |i: usize| LEFT + i as f64 / (n - 1.0) * plot_w;
    let y_of = |v: f64| TOP + (hi - v) / span * plot_h;
    let c = escape(currency);
    let cov = &report.coverage;
    let mut s = document(W, H);
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Backtest of {} \
         ({} days, {}-day horizon)</text>\n<text x=\"{LEFT}\" y=\"44\" font-size=\"11\">margin \
         (blue line) and realised loss ({c}); {} exceptions (red), traffic light {}</text>",
        escape(account),
        days.len(),
        report.horizon_days,
        cov.exceptions,
        cov.traffic_light.zone.name()
    );
    // Axes: zero line, amount ticks, first and last date.
    let _ = writeln!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#888888\"/>",
        y_of(0.0),
        W - RIGHT
    );
    for v in [lo, 0.0, hi] {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y_of(v) + 3.5,
            amount(v)
        );
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = writeln!(
            s,
            "<text x=\"{LEFT}\" y=\"{0}\" font-size=\"10\">{1}</text>\n<text x=\"{2}\" \
             y=\"{0}\" font-size=\"10\" text-anchor=\"end\">{3}</text>",
            H - BOTTOM + 16.0,
            day(first.date),
            W - RIGHT,
            day(last.date)
        );
    }
    let mut path = String::new();
    for (i, d) in days.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.2},{:.2}",
            if i == 0 { "M" } else { " L" },
            x_of(i),
            y_of(d.margin)
        );
    }
    for (i, d) in days.iter().enumerate().filter(|(_, d)| !d.exception) {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"1.2\" fill=\"#999999\"/>",
            x_of(i),
            y_of(d.loss)
        );
    }
    let _ = writeln!(
        s,
        "<path id=\"margin\" d=\"{path}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.2\"/>"
    );
    for (i, d) in days.iter().enumerate().filter(|(_, d)| d.exception) {
        let _ = writeln!(
            s,
            "<circle class=\"exception\" cx=\"{:.2}\" cy=\"{:.2}\" r=\"3\" fill=\"#d62728\">\
             <title>{}: loss {} {c} &gt; margin {} {c}</title></circle>",
            x_of(i),
            y_of(d.loss),
            day(d.date),
            amount(d.loss),
            amount(d.margin)
        );
    }
    s.push_str("</svg>\n");
    s
}
