//! A hand-written SVG of a VaR run's P&L distribution: a histogram of the scenario P&L (loss
//! side red, gain side blue) with VaR and ES marked as vertical lines on the loss side. Plain
//! SVG 1.1, no script, no external resources; user text is XML-escaped.

use crate::svg::{amount, document, escape};
use margin_opt::var::{VarParams, VarReport};
use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 380.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 50.0;
const BINS: usize = 60;

/// The SVG of `report`'s P&L distribution (P&L = −loss), amounts in `currency`.
pub fn distribution(report: &VarReport, currency: &str, params: &VarParams) -> String {
    let pnl: Vec<f64> = report.losses.iter().map(|l| -l).collect();
    let lo = pnl.iter().copied().fold(-report.es, f64::min);
    let hi = pnl.iter().copied().fold(0.0, f64::max);
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let mut counts = [0usize; BINS];
    for &x in &pnl {
        let b = (((x - lo) / span) * BINS as f64) as usize;
        counts[b.min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x_of = |v: f64| LEFT + (v - lo) / span * plot_w;
    let c = escape(currency);
    let mut s = document(W, H);
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">P&amp;L distribution \
         ({}, {} scenarios, {}-day horizon)</text>\n<text x=\"{LEFT}\" y=\"44\" \
         font-size=\"11\">VaR {:.6} {c}, ES {:.6} {c} at {} % confidence</text>",
        params.source.method.name(),
        report.scenarios,
        params.source.horizon_days,
        report.var,
        report.es,
        params.confidence * 100.0
    );
    let bw = plot_w / BINS as f64;
    for (b, &n) in counts.iter().enumerate() {
        let h = n as f64 / top * plot_h;
        let mid = lo + (b as f64 + 0.5) * span / BINS as f64;
        let fill = if mid < 0.0 { "#d62728" } else { "#1f77b4" };
        let _ = writeln!(
            s,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"{fill}\" \
             fill-opacity=\"0.7\"><title>{n} scenarios</title></rect>",
            LEFT + b as f64 * bw,
            TOP + plot_h - h,
            (bw - 1.0).max(0.5)
        );
    }
    for (value, name, dash) in [(report.var, "VaR", "6,3"), (report.es, "ES", "2,2")] {
        let x = x_of(-value);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.2}\" y1=\"{TOP}\" x2=\"{x:.2}\" y2=\"{:.2}\" stroke=\"#000000\" \
             stroke-dasharray=\"{dash}\"/>\n<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\" \
             text-anchor=\"end\">{name}</text>",
            TOP + plot_h,
            x - 3.0,
            TOP + if name == "VaR" { 12.0 } else { 26.0 }
        );
    }
    let axis_y = TOP + plot_h;
    if lo < 0.0 && hi > 0.0 {
        let x0 = x_of(0.0);
        let _ = writeln!(
            s,
            "<line x1=\"{x0:.2}\" y1=\"{axis_y}\" x2=\"{x0:.2}\" y2=\"{:.2}\" \
             stroke=\"#444444\"/>\n<text x=\"{x0:.2}\" y=\"{:.2}\" font-size=\"10\" \
             text-anchor=\"middle\">0</text>",
            axis_y + 4.0,
            axis_y + 14.0
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#444444\"/>\n\
         <text x=\"{LEFT}\" y=\"{}\" font-size=\"10\">{}</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">scenario P&amp;L \
         ({c})</text>\n</svg>",
        W - RIGHT,
        axis_y + 14.0,
        amount(lo),
        W - RIGHT,
        axis_y + 14.0,
        amount(hi),
        LEFT + plot_w / 2.0,
        axis_y + 34.0
    );
    s
}
