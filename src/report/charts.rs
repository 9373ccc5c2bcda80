//! The report's charts as inline SVG strings: bar charts (vertical or horizontal, plain or
//! stacked), histograms and line charts, with axes, "nice" ticks, labels and a legend.
//!
//! Choice: a small renderer of our own rather than the `plotters` crate. The report needs five
//! chart shapes, must stay one self-contained file, and must escape every label; a few hundred
//! tested lines do that without a new dependency, and the layout (where a bar goes, how tall it
//! is) is computed apart from the SVG text so tests can check geometry with exact numbers.
//!
//! Colours are the Okabe-Ito palette, which stays distinguishable with every common form of
//! colour blindness. Every text that reaches the SVG goes through `escape_html`.

use std::fmt::Write;

use super::format::{date_from_days, escape_html, number_text};

/// Okabe-Ito: blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, black.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
];

/// Aging buckets from calm to alarming: sky blue, blue, yellow, orange, vermillion, purple.
pub const BUCKET_COLOURS: [&str; 6] = [
    "#56B4E9", "#0072B2", "#F0E442", "#E69F00", "#D55E00", "#882255",
];

const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"";

/// "Nice" axis ticks covering [lo, hi] with about `target` intervals (steps of 1, 2 or 5 x 10^k).
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let (lo, hi) = if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        (
            lo - 0.5_f64.max(lo.abs() * 0.1),
            hi + 0.5_f64.max(hi.abs() * 0.1),
        )
    } else {
        (lo, hi)
    };
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let start = (lo / step).floor() as i64;
    let end = (hi / step).ceil() as i64;
    (start..=end).map(|i| i as f64 * step).collect()
}

fn nice_step(rough: f64) -> f64 {
    let mag = 10f64.powf(rough.log10().floor());
    let norm = rough / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick label: thousands separators, `k`/`M`/`B` above a million, as few decimals as the step needs.
pub fn tick_label(v: f64, step: f64) -> String {
    let decimals_for = |s: f64| {
        if s >= 1.0 {
            0
        } else {
            (-s.log10().floor()) as usize
        }
    };
    let a = v.abs();
    if a >= 1e9 {
        format!("{}B", number_text(v / 1e9, decimals_for(step / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", number_text(v / 1e6, decimals_for(step / 1e6)))
    } else {
        number_text(v, decimals_for(step))
    }
}

/// A linear map from a data interval to a pixel interval.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    pub fn map(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return self.r0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// One named series of a chart with its colour.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// Categories along x, bars grow upwards.
    Vertical,
    /// Categories down the left side (long names stay readable), bars grow rightwards.
    Horizontal,
}

/// A bar chart; several series are stacked in order.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub value_label: String,
    pub orientation: Orientation,
    pub width: f64,
    pub height: f64,
}

/// A laid-out bar segment: pixel rectangle, plus what it shows (for the tooltip).
#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub category: usize,
    pub series: usize,
    pub value: f64,
}

#[derive(Debug, Clone, Copy)]
struct Plot {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Plot {
    fn width(&self) -> f64 {
        self.right - self.left
    }
    fn height(&self) -> f64 {
        self.bottom - self.top
    }
}

const LEGEND_H: f64 = 22.0;

impl BarChart {
    fn plot(&self) -> Plot {
        let top = if self.series.len() > 1 {
            LEGEND_H + 8.0
        } else {
            22.0
        };
        match self.orientation {
            Orientation::Vertical => {
                let rotate = self.rotate_labels();
                Plot {
                    left: 64.0,
                    top,
                    right: self.width - 16.0,
                    bottom: self.height - if rotate { 78.0 } else { 40.0 },
                }
            }
            Orientation::Horizontal => Plot {
                left: 170.0,
                top,
                right: self.width - 24.0,
                bottom: self.height - 30.0,
            },
        }
    }

    fn rotate_labels(&self) -> bool {
        let slot = (self.width - 80.0) / self.categories.len().max(1) as f64;
        self.categories
            .iter()
            .any(|c| c.chars().count() as f64 * 5.8 > slot)
    }

    /// The stacked total of each category (negative values are not drawn: they count as zero).
    fn totals(&self) -> Vec<f64> {
        (0..self.categories.len())
            .map(|i| {
                self.series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0.0).max(0.0))
                    .sum()
            })
            .collect()
    }

    fn value_ticks(&self) -> Vec<f64> {
        let max = self.totals().into_iter().fold(0.0, f64::max);
        let ticks = nice_ticks(0.0, if max > 0.0 { max } else { 1.0 }, 5);
        // Counts get whole-number ticks: "0.2 customers" means nothing.
        let integral = self
            .series
            .iter()
            .all(|s| s.values.iter().all(|v| !v.is_finite() || v.fract() == 0.0));
        let step = ticks
            .get(1)
            .zip(ticks.first())
            .map(|(b, a)| b - a)
            .unwrap_or(1.0);
        if integral && step < 1.0 {
            let top = max.ceil().max(1.0) as i64;
            return (0..=top).map(|i| i as f64).collect();
        }
        ticks
    }

    fn value_scale(&self) -> Scale {
        let ticks = self.value_ticks();
        let top = ticks.last().copied().unwrap_or(1.0);
        let p = self.plot();
        match self.orientation {
            Orientation::Vertical => Scale {
                d0: 0.0,
                d1: top,
                r0: p.bottom,
                r1: p.top,
            },
            Orientation::Horizontal => Scale {
                d0: 0.0,
                d1: top,
                r0: p.left,
                r1: p.right,
            },
        }
    }

    /// Where every bar segment goes. Bars take 70 % of their category's slot.
    pub fn layout(&self) -> Vec<Rect> {
        let p = self.plot();
        let s = self.value_scale();
        let n = self.categories.len().max(1) as f64;
        let mut out = Vec::new();
        for i in 0..self.categories.len() {
            let mut base = 0.0;
            for (j, series) in self.series.iter().enumerate() {
                let v = series.values.get(i).copied().unwrap_or(0.0).max(0.0);
                if v <= 0.0 || !v.is_finite() {
                    continue;
                }
                let (a, b) = (s.map(base), s.map(base + v));
                let rect = match self.orientation {
                    Orientation::Vertical => {
                        let slot = p.width() / n;
                        Rect {
                            x: p.left + slot * i as f64 + slot * 0.15,
                            y: b,
                            w: slot * 0.7,
                            h: a - b,
                            category: i,
                            series: j,
                            value: v,
                        }
                    }
                    Orientation::Horizontal => {
                        let slot = p.height() / n;
                        Rect {
                            x: a,
                            y: p.top + slot * i as f64 + slot * 0.15,
                            w: b - a,
                            h: slot * 0.7,
                            category: i,
                            series: j,
                            value: v,
                        }
                    }
                };
                out.push(rect);
                base += v;
            }
        }
        out
    }

    /// The category labels beside the category axis (rotated when long on a vertical chart).
    fn category_labels(&self, svg: &mut String, p: Plot) {
        let n = self.categories.len().max(1) as f64;
        let rotate = self.rotate_labels();
        for (i, c) in self.categories.iter().enumerate() {
            let label = escape_html(&truncate(c, 26));
            match self.orientation {
                Orientation::Vertical => {
                    let slot = p.width() / n;
                    let x = p.left + slot * (i as f64 + 0.5);
                    let y = p.bottom + 16.0;
                    if rotate {
                        let _ = write!(
                            svg,
                            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="end" font-size="11" fill="#333" transform="rotate(-35 {x:.1} {y:.1})">{label}</text>"##
                        );
                    } else {
                        let _ = write!(
                            svg,
                            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" font-size="11" fill="#333">{label}</text>"##
                        );
                    }
                }
                Orientation::Horizontal => {
                    let slot = p.height() / n;
                    let y = p.top + slot * (i as f64 + 0.5) + 4.0;
                    let _ = write!(
                        svg,
                        r##"<text x="{:.1}" y="{y:.1}" text-anchor="end" font-size="11" fill="#333">{label}</text>"##,
                        p.left - 8.0
                    );
                }
            }
        }
    }

    pub fn to_svg(&self) -> String {
        let p = self.plot();
        let s = self.value_scale();
        let ticks = self.value_ticks();
        let step = ticks
            .get(1)
            .zip(ticks.first())
            .map(|(b, a)| b - a)
            .unwrap_or(1.0);
        let mut svg = open_svg(self.width, self.height, &self.title);
        // Grid lines and value ticks.
        for t in &ticks {
            let label = escape_html(&tick_label(*t, step));
            match self.orientation {
                Orientation::Vertical => {
                    let y = s.map(*t);
                    let _ = write!(
                        svg,
                        r##"<line class="grid" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#555">{label}</text>"##,
                        p.left,
                        p.right,
                        p.left - 6.0,
                        y + 4.0
                    );
                }
                Orientation::Horizontal => {
                    let x = s.map(*t);
                    let _ = write!(
                        svg,
                        r##"<line class="grid" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e3e3e3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#555">{label}</text>"##,
                        p.top,
                        p.bottom,
                        p.bottom + 16.0
                    );
                }
            }
        }
        // Bars, each with a tooltip.
        for r in self.layout() {
            let series = &self.series[r.series];
            let tip = if self.series.len() > 1 {
                format!(
                    "{} · {}: {}",
                    self.categories[r.category],
                    series.name,
                    number_text(r.value, 2)
                )
            } else {
                format!(
                    "{}: {}",
                    self.categories[r.category],
                    number_text(r.value, 2)
                )
            };
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
                r.x,
                r.y,
                r.w,
                r.h,
                escape_html(&series.colour),
                escape_html(&tip)
            );
        }
        self.category_labels(&mut svg, p);
        axes(&mut svg, p);
        // The unit: above the value axis when vertical, left of the value ticks when horizontal.
        let (lx, ly, anchor) = match self.orientation {
            Orientation::Vertical => (4.0, p.top - 8.0, "start"),
            Orientation::Horizontal => (p.left - 8.0, p.bottom + 16.0, "end"),
        };
        let _ = write!(
            svg,
            r##"<text x="{lx:.1}" y="{ly:.1}" font-size="11" fill="#555" text-anchor="{anchor}">{}</text>"##,
            escape_html(&self.value_label)
        );
        if self.series.len() > 1 {
            legend(
                &mut svg,
                p.left,
                self.series
                    .iter()
                    .map(|s| (s.name.as_str(), s.colour.as_str(), Swatch::Box)),
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

/// A histogram of `values` over [lo, hi] in `bins` equal bins (the last bin includes hi; values
/// outside are clamped into the first or last bin).
pub fn histogram_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let bins = bins.max(1);
    let mut counts = vec![0usize; bins];
    let width = (hi - lo) / bins as f64;
    for v in values.iter().filter(|v| v.is_finite()) {
        let i = if width > 0.0 {
            ((v - lo) / width).floor()
        } else {
            0.0
        };
        let i = (i.max(0.0) as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
}

/// A histogram as a vertical bar chart with one bar per bin, labelled by its range.
pub fn histogram(
    title: &str,
    values: &[f64],
    lo: f64,
    hi: f64,
    bins: usize,
    colour: &str,
) -> BarChart {
    let counts = histogram_counts(values, lo, hi, bins);
    let width = (hi - lo) / bins.max(1) as f64;
    BarChart {
        title: title.to_string(),
        categories: (0..counts.len())
            .map(|i| {
                let a = lo + width * i as f64;
                format!("{}–{}", number_text(a, 0), number_text(a + width, 0))
            })
            .collect(),
        series: vec![Series {
            name: "customers".to_string(),
            colour: colour.to_string(),
            values: counts.iter().map(|&c| c as f64).collect(),
        }],
        value_label: "customers".to_string(),
        orientation: Orientation::Vertical,
        width: 560.0,
        height: 250.0,
    }
}

/// One line of a line chart: (x, y) points in x order.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub colour: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// A point to call out (an anomaly), with its tooltip.
#[derive(Debug, Clone)]
pub struct Marker {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// A line chart; x values are days since 1970-01-01 when `x_dates` is set.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    pub lines: Vec<Line>,
    pub markers: Vec<Marker>,
    pub x_dates: bool,
    pub value_label: String,
    pub width: f64,
    pub height: f64,
}

impl LineChart {
    fn plot(&self) -> Plot {
        Plot {
            left: 64.0,
            top: LEGEND_H + 8.0,
            right: self.width - 16.0,
            bottom: self.height - 30.0,
        }
    }

    fn all_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.lines
            .iter()
            .flat_map(|l| l.points.iter().copied())
            .chain(self.markers.iter().map(|m| (m.x, m.y)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// The x and y scales and the y ticks: y starts at zero (money lines are read from zero).
    pub fn scales(&self) -> (Scale, Scale, Vec<f64>) {
        let p = self.plot();
        let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
        let mut y0 = 0.0f64;
        for (x, y) in self.all_points() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
            y0 = y0.min(y);
        }
        if !x0.is_finite() {
            x0 = 0.0;
            x1 = 1.0;
        }
        if x1 <= x0 {
            x0 -= 1.0;
            x1 += 1.0;
        }
        // 4 % headroom so a flat series does not run along the top edge.
        let ticks = nice_ticks(y0, if y1 > y0 { y1 * 1.04 } else { y0 + 1.0 }, 5);
        let (t0, t1) = (
            ticks.first().copied().unwrap_or(0.0),
            ticks.last().copied().unwrap_or(1.0),
        );
        (
            Scale {
                d0: x0,
                d1: x1,
                r0: p.left,
                r1: p.right,
            },
            Scale {
                d0: t0,
                d1: t1,
                r0: p.bottom,
                r1: p.top,
            },
            ticks,
        )
    }

    pub fn to_svg(&self) -> String {
        let p = self.plot();
        let (xs, ys, ticks) = self.scales();
        let step = ticks
            .get(1)
            .zip(ticks.first())
            .map(|(b, a)| b - a)
            .unwrap_or(1.0);
        let mut svg = open_svg(self.width, self.height, &self.title);
        for t in &ticks {
            let y = ys.map(*t);
            let _ = write!(
                svg,
                r##"<line class="grid" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#555">{}</text>"##,
                p.left,
                p.right,
                p.left - 6.0,
                y + 4.0,
                escape_html(&tick_label(*t, step))
            );
        }
        // x ticks: whole days when dates, about six of them.
        let xt = {
            let raw = nice_ticks(xs.d0, xs.d1, 6);
            raw.into_iter()
                .filter(|x| *x >= xs.d0 - 1e-9 && *x <= xs.d1 + 1e-9)
                .filter(|x| !self.x_dates || x.fract() == 0.0)
                .collect::<Vec<_>>()
        };
        for x in xt {
            let px = xs.map(x);
            let label = if self.x_dates {
                date_from_days(x as i32)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            } else {
                number_text(x, 0)
            };
            let _ = write!(
                svg,
                r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#999"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#555">{}</text>"##,
                p.bottom,
                p.bottom + 4.0,
                p.bottom + 17.0,
                escape_html(&label)
            );
        }
        for line in &self.lines {
            let pts: Vec<String> = line
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| format!("{:.1},{:.1}", xs.map(*x), ys.map(*y)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let dash = if line.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = write!(
                svg,
                r#"<polyline class="line" fill="none" stroke="{}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
                escape_html(&line.colour),
                pts.join(" "),
                escape_html(&line.name)
            );
        }
        for m in self
            .markers
            .iter()
            .filter(|m| m.x.is_finite() && m.y.is_finite())
        {
            let _ = write!(
                svg,
                r##"<circle class="mark" cx="{:.1}" cy="{:.1}" r="4.5" fill="#D55E00" stroke="#fff" stroke-width="1.5"><title>{}</title></circle>"##,
                xs.map(m.x),
                ys.map(m.y),
                escape_html(&m.label)
            );
        }
        axes(&mut svg, p);
        let _ = write!(
            svg,
            r##"<text x="4" y="{:.1}" font-size="11" fill="#555">{}</text>"##,
            p.top - 12.0,
            escape_html(&self.value_label)
        );
        let mut entries: Vec<(&str, &str, Swatch)> = self
            .lines
            .iter()
            .map(|l| {
                let swatch = if l.dashed {
                    Swatch::Dashed
                } else {
                    Swatch::Line
                };
                (l.name.as_str(), l.colour.as_str(), swatch)
            })
            .collect();
        if !self.markers.is_empty() {
            entries.push(("anomaly", "#D55E00", Swatch::Dot));
        }
        legend(&mut svg, p.left + 110.0, entries.into_iter());
        svg.push_str("</svg>");
        svg
    }
}

fn open_svg(width: f64, height: f64, title: &str) -> String {
    let t = escape_html(title);
    format!(
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}" {FONT}><title>{t}</title>"#
    )
}

fn axes(svg: &mut String, p: Plot) {
    let _ = write!(
        svg,
        r##"<line class="axis" x1="{l:.1}" y1="{t:.1}" x2="{l:.1}" y2="{b:.1}" stroke="#333"/><line class="axis" x1="{l:.1}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#333"/>"##,
        l = p.left,
        t = p.top,
        b = p.bottom,
        r = p.right
    );
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Swatch {
    Box,
    Line,
    Dashed,
    Dot,
}

/// A one-row legend starting at x, in the top margin.
fn legend<'a>(svg: &mut String, x: f64, entries: impl Iterator<Item = (&'a str, &'a str, Swatch)>) {
    let mut x = x;
    for (name, colour, swatch) in entries {
        let name = truncate(name, 24);
        let c = escape_html(colour);
        let _ = match swatch {
            Swatch::Box => write!(
                svg,
                r#"<rect class="legend" x="{x:.1}" y="5" width="14" height="12" fill="{c}"/>"#
            ),
            Swatch::Line | Swatch::Dashed => write!(
                svg,
                r#"<line class="legend" x1="{x:.1}" y1="11" x2="{:.1}" y2="11" stroke="{c}" stroke-width="2"{}/>"#,
                x + 14.0,
                if swatch == Swatch::Dashed {
                    r#" stroke-dasharray="4 3""#
                } else {
                    ""
                }
            ),
            Swatch::Dot => write!(
                svg,
                r##"<circle class="legend" cx="{:.1}" cy="11" r="4.5" fill="{c}" stroke="#fff"/>"##,
                x + 7.0
            ),
        };
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="15" font-size="11" fill="#333">{}</text>"##,
            x + 18.0,
            escape_html(&name)
        );
        x += 30.0 + name.chars().count() as f64 * 6.2;
    }
}

/// Shortens a label to `max` characters with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<f64>, orientation: Orientation) -> BarChart {
        BarChart {
            title: "t".into(),
            categories: (0..values.len()).map(|i| format!("c{i}")).collect(),
            series: vec![Series {
                name: "s".into(),
                colour: PALETTE[0].into(),
                values,
            }],
            value_label: "USD".into(),
            orientation,
            width: 640.0,
            height: 260.0,
        }
    }

    #[test]
    fn nice_ticks_use_1_2_5_steps() {
        assert_eq!(
            nice_ticks(0.0, 87.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(
            nice_ticks(0.0, 4300.0, 5),
            vec![0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
        );
        // A flat range still gets an axis.
        assert!(nice_ticks(5.0, 5.0, 5).len() >= 2);
        assert_eq!(tick_label(2_500_000.0, 500_000.0), "2.5M");
        assert_eq!(tick_label(12_000.0, 2000.0), "12,000");
    }

    #[test]
    fn bar_height_is_proportional_to_value() {
        // Vertical plot: top 22, bottom 260 - 40 = 220, so 198 px; max 50 -> ticks 0..50 by 10.
        // A bar of 25 is half the axis: 99 px tall, standing on the bottom at y = 220 - 99 = 121.
        let c = chart(vec![25.0, 50.0], Orientation::Vertical);
        let r = c.layout();
        assert_eq!(r.len(), 2);
        assert!((r[0].h - 99.0).abs() < 1e-9);
        assert!((r[0].y - 121.0).abs() < 1e-9);
        assert!((r[1].h - 198.0).abs() < 1e-9);
        // Slot width (640 - 16 - 64) / 2 = 280, bar 70 % = 196, offset 15 % = 42.
        assert!((r[0].w - 196.0).abs() < 1e-9);
        assert!((r[0].x - (64.0 + 42.0)).abs() < 1e-9);
    }

    #[test]
    fn stacked_segments_sit_on_each_other() {
        let mut c = chart(vec![10.0], Orientation::Horizontal);
        c.series.push(Series {
            name: "b".into(),
            colour: PALETTE[1].into(),
            values: vec![30.0],
        });
        let r = c.layout();
        // Axis 0..40 over the plot width 640 - 24 - 170 = 446 px: 10 -> 111.5 px, 30 -> 334.5 px.
        assert_eq!(r.len(), 2);
        assert!((r[0].x - 170.0).abs() < 1e-9);
        assert!((r[0].w - 111.5).abs() < 1e-9);
        assert!((r[1].x - 281.5).abs() < 1e-9);
        assert!((r[1].w - 334.5).abs() < 1e-9);
    }

    #[test]
    fn zero_and_negative_values_draw_nothing() {
        let c = chart(vec![0.0, -5.0, f64::NAN], Orientation::Vertical);
        assert!(c.layout().is_empty());
        assert!(c.to_svg().starts_with("<svg"));
    }

    #[test]
    fn counts_get_whole_number_ticks() {
        let c = chart(vec![1.0, 0.0, 1.0], Orientation::Vertical);
        assert_eq!(c.value_ticks(), vec![0.0, 1.0]);
        let c = chart(vec![0.5], Orientation::Vertical);
        assert_eq!(c.value_ticks().len(), 6);
    }

    #[test]
    fn histogram_bins_include_both_ends() {
        // Scores 0, 9.99 -> bin 0; 10 -> bin 1; 100 -> last bin; -3 clamps into bin 0.
        let counts = histogram_counts(&[0.0, 9.99, 10.0, 100.0, -3.0], 0.0, 100.0, 10);
        assert_eq!(counts, vec![3, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn labels_are_escaped_in_svg() {
        let mut c = chart(vec![1.0], Orientation::Horizontal);
        c.categories = vec!["<script>alert(1)</script>".into()];
        let svg = c.to_svg();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn line_chart_maps_points_and_markers() {
        let chart = LineChart {
            title: "usage".into(),
            lines: vec![Line {
                name: "cost".into(),
                colour: PALETTE[0].into(),
                points: vec![(0.0, 0.0), (10.0, 96.0)],
                dashed: false,
            }],
            markers: vec![Marker {
                x: 10.0,
                y: 96.0,
                label: "spike".into(),
            }],
            x_dates: false,
            value_label: "USD".into(),
            width: 640.0,
            height: 260.0,
        };
        let (xs, ys, _) = chart.scales();
        // Plot x from 64 to 624, y from 230 (bottom) up to 30. 96 with 4 % headroom is 99.84, so
        // the top tick is 100 and 96 sits at 230 - 96 / 100 x 200 = 38.
        assert_eq!(xs.map(10.0), 624.0);
        assert_eq!(ys.map(0.0), 230.0);
        assert_eq!(ys.map(100.0), 30.0);
        let svg = chart.to_svg();
        assert!(svg.contains(r#"points="64.0,230.0 624.0,38.0""#));
        assert_eq!(svg.matches(r#"class="mark""#).count(), 1);
    }
}
