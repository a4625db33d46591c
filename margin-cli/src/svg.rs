//! A hand-written SVG heatmap of a risk matrix: columns are price moves, rows are vol states
//! (up on top), each cell coloured by the portfolio's P&L in that scenario on a diverging
//! scale (red = loss, white = 0, blue = gain, symmetric around 0, intensity ∝ √|P&L| so the
//! standard grid stays readable beside large tail losses), extended (tail) scenarios
//! in their own strip below, the worst scenario outlined. Plain SVG 1.1, no script, no
//! external resources; every piece of user text is XML-escaped.

use crate::commands::compute::{Report, ScenarioJson, pct, vol};
use std::fmt::Write as _;

const CELL_W: f64 = 70.0;
const CELL_H: f64 = 30.0;
const LEFT: f64 = 110.0;
const TOP: f64 = 70.0;

/// Escapes `&`, `<`, `>`, `"` and `'` for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The opening of a `width × height` SVG 1.1 document on a white background (close it with
/// `</svg>`).
pub fn document(width: f64, height: f64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         version=\"1.1\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"sans-serif\">\n<rect x=\"0\" y=\"0\" width=\"{width}\" \
         height=\"{height}\" fill=\"#ffffff\"/>\n"
    )
}

/// An axis amount: two decimals from 100 up, else six significant digits.
pub fn amount(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.6}")
    }
}

/// Diverging colour of `pnl` relative to `scale` (> 0): white at 0, red at −scale, blue at
/// +scale, with intensity √(|pnl|/scale).
fn colour(pnl: f64, scale: f64) -> String {
    let t = (pnl / scale).clamp(-1.0, 1.0);
    let t = t.signum() * t.abs().sqrt();
    let (r, g, b) = if t < 0.0 {
        (214.0, 39.0, 40.0) // loss
    } else {
        (31.0, 119.0, 180.0) // gain
    };
    let a = t.abs();
    let mix = |c: f64| (255.0 + (c - 255.0) * a).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
}

/// Distinct values of `xs` in ascending order (exact comparison: moves come from one generator).
fn distinct(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// One scenario cell at (`x`, `y`), outlined when it is the worst.
fn cell(svg: &mut String, x: f64, y: f64, sc: &ScenarioJson, scale: f64, worst: bool, title: &str) {
    let (pnl, index) = (sc.pnl, sc.index);
    let fill = colour(pnl, scale);
    let (stroke, width, class) = if worst {
        ("#000000", 3.0, " class=\"worst\"")
    } else {
        ("#ffffff", 1.0, "")
    };
    let _ = writeln!(
        svg,
        "<g id=\"scenario-{index}\"{class}><title>{}</title>\
         <rect x=\"{x}\" y=\"{y}\" width=\"{CELL_W}\" height=\"{CELL_H}\" fill=\"{fill}\" \
         stroke=\"{stroke}\" stroke-width=\"{width}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text></g>",
        escape(title),
        x + CELL_W / 2.0,
        y + CELL_H / 2.0 + 3.5,
        format_pnl(pnl)
    );
}

fn format_pnl(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else if x.abs() >= 1000.0 || x.abs() < 1e-3 {
        format!("{x:+.2e}")
    } else {
        format!("{x:+.4}")
    }
}

/// The heatmap of `report`'s scenarios.
pub fn heatmap(report: &Report) -> String {
    let scenarios = &report.scenarios;
    let standard: Vec<_> = scenarios.iter().filter(|s| s.kind == "standard").collect();
    let extended: Vec<_> = scenarios.iter().filter(|s| s.kind != "standard").collect();
    let moves = distinct(standard.iter().map(|s| s.price_move));
    let mut vols = distinct(standard.iter().map(|s| s.vol_shock));
    vols.reverse();
    let scale = scenarios
        .iter()
        .map(|s| s.pnl.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let worst = report.worst_scenario.index;
    let cols = moves.len().max(extended.len()).max(4);
    let grid_h = vols.len() as f64 * CELL_H;
    let strip_y = TOP + grid_h + 50.0;
    let legend_y = strip_y
        + if extended.is_empty() {
            0.0
        } else {
            CELL_H + 40.0
        };
    let width = LEFT + cols as f64 * CELL_W + 30.0;
    let height = legend_y + 60.0;
    let c = escape(&report.currency);
    let mut svg = document(width, height);
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Risk matrix of {} · \
         {} {}</text>\n<text x=\"{LEFT}\" y=\"44\" font-size=\"11\">portfolio P&amp;L ({c}) per \
         scenario; IM {:.6} {c}; worst scenario #{} outlined (loss {:.6} {c})</text>",
        escape(&report.account),
        escape(report.preset),
        escape(report.preset_version),
        report.initial_margin,
        worst,
        report.worst_scenario.loss
    );
    // Axis titles.
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">price move</text>\n\
         <text x=\"16\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 16 {})\" \
         text-anchor=\"middle\">vol shock</text>",
        LEFT + moves.len() as f64 * CELL_W / 2.0,
        TOP + grid_h + 30.0,
        TOP + grid_h / 2.0,
        TOP + grid_h / 2.0
    );
    for (j, m) in moves.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            LEFT + (j as f64 + 0.5) * CELL_W,
            TOP + grid_h + 14.0,
            escape(&pct(*m))
        );
    }
    for (i, v) in vols.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\">{}</text>",
            LEFT - 6.0,
            TOP + (i as f64 + 0.5) * CELL_H + 3.5,
            vol(*v)
        );
    }
    for s in &standard {
        let (Some(j), Some(i)) = (
            moves.iter().position(|m| *m == s.price_move),
            vols.iter().position(|v| *v == s.vol_shock),
        ) else {
            continue;
        };
        let title = format!(
            "#{}: price {}, vol {}, P&L {} {}",
            s.index,
            pct(s.price_move),
            vol(s.vol_shock),
            s.pnl,
            report.currency
        );
        cell(
            &mut svg,
            LEFT + j as f64 * CELL_W,
            TOP + i as f64 * CELL_H,
            s,
            scale,
            s.index == worst,
            &title,
        );
    }
    if !extended.is_empty() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\">extended</text>\n\
             <text x=\"{LEFT}\" y=\"{}\" font-size=\"10\">extended (tail) scenarios, weights \
             and dampening apply when they count</text>",
            LEFT - 6.0,
            strip_y + CELL_H / 2.0 + 3.5,
            strip_y - 8.0
        );
        for (j, s) in extended.iter().enumerate() {
            let x = LEFT + j as f64 * CELL_W;
            let title = format!(
                "#{}: extended, price {}, vol {}, weight {}, P&L {} {}",
                s.index,
                pct(s.price_move),
                vol(s.vol_shock),
                s.weight,
                s.pnl,
                report.currency
            );
            cell(&mut svg, x, strip_y, s, scale, s.index == worst, &title);
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                x + CELL_W / 2.0,
                strip_y + CELL_H + 14.0,
                escape(&pct(s.price_move))
            );
        }
    }
    // Legend: a gradient from −scale to +scale.
    let _ = writeln!(
        svg,
        "<defs><linearGradient id=\"pnl-scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">\
         <stop offset=\"0\" stop-color=\"{}\"/><stop offset=\"0.5\" stop-color=\"#ffffff\"/>\
         <stop offset=\"1\" stop-color=\"{}\"/></linearGradient></defs>\n\
         <rect x=\"{LEFT}\" y=\"{legend_y}\" width=\"240\" height=\"12\" \
         fill=\"url(#pnl-scale)\" stroke=\"#888888\"/>\n\
         <text x=\"{LEFT}\" y=\"{}\" font-size=\"10\">{} (loss)</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">0</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{} (gain) {c}, √ scale</text>",
        colour(-scale, scale),
        colour(scale, scale),
        legend_y + 26.0,
        format_pnl(-scale),
        LEFT + 120.0,
        legend_y + 26.0,
        LEFT + 240.0,
        legend_y + 26.0,
        format_pnl(scale)
    );
    svg.push_str("</svg>\n");
    svg
}
