//! Standalone SVG 1.1 plots built as strings: the Pareto scatter, latency-vs-concurrency
//! curves and memory breakdown bars.
//!
//! Every coordinate goes through [`coord`], so no `NaN` or `inf` reaches the output whatever
//! the input (empty, a single point, all-equal values, non-finite numbers).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::units::{format_compact, format_significant};

/// The series colours, in order: the Okabe–Ito colour-blind-friendly palette, yellow last
/// because it is hard to see on white. Series beyond eight reuse colours.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
];

const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MUTED_FILL: &str = "#D9D9D9";
const GRID: &str = "#E6E6E6";
const AXIS: &str = "#555555";
const INK: &str = "#222222";
const LIMIT: &str = "#B2182B";

/// A scatter plot of candidate configurations with their Pareto frontier, for `pareto_svg`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParetoPlot {
    /// Title shown above the plot.
    pub title: String,
    /// Label of the horizontal axis with its unit, e.g. "Tokens/s per user".
    pub x_label: String,
    /// Label of the vertical axis with its unit, e.g. "Tokens/s per GPU".
    pub y_label: String,
    /// The candidate configurations.
    pub points: Vec<PlotPoint>,
    /// Vertical dashed limit lines at an x value, with a label (e.g. the minimum per-user
    /// speed `1000 / max_itl_ms`).
    pub vlines: Vec<(f64, String)>,
    /// Horizontal dashed limit lines at a y value, with a label (e.g. a minimum throughput).
    pub hlines: Vec<(f64, String)>,
    /// Use a logarithmic (base 10) horizontal axis; non-positive values are left out.
    pub log_x: bool,
    /// Use a logarithmic (base 10) vertical axis; non-positive values are left out.
    pub log_y: bool,
}

/// One configuration in a [`ParetoPlot`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlotPoint {
    /// Horizontal position, in the unit of the x label.
    pub x: f64,
    /// Vertical position, in the unit of the y label.
    pub y: f64,
    /// The series it belongs to (the GPU type), which sets its colour and legend entry.
    pub series: String,
    /// Description shown as the tooltip (and next to the point when chosen).
    pub label: String,
    /// Whether the point is on the Pareto frontier; frontier points are joined by a step line.
    pub on_frontier: bool,
    /// Whether this is the recommended configuration; it gets a ring and a label.
    pub chosen: bool,
}

/// Curves against a shared x axis, in one or more stacked panels (small multiples), for
/// `line_chart_svg`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineChart {
    /// Title shown above the chart.
    pub title: String,
    /// Label of the shared horizontal axis with its unit, e.g. "Concurrent requests".
    pub x_label: String,
    /// Use a logarithmic (base 2) horizontal axis, for x values such as 1, 2, 4, ... 512.
    pub log_x: bool,
    /// The panels, top to bottom; a series name keeps its colour across panels.
    pub panels: Vec<ChartPanel>,
}

/// One panel of a [`LineChart`]: series sharing a y unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartPanel {
    /// Label of this panel's vertical axis with its unit, e.g. "TTFT (ms)".
    pub y_label: String,
    /// The curves.
    pub series: Vec<LineSeries>,
    /// Horizontal dashed limit lines (e.g. the TTFT SLO), with labels.
    pub hlines: Vec<(f64, String)>,
    /// Use a logarithmic (base 10) vertical axis; non-positive values are left out.
    pub log_y: bool,
}

/// One curve of a [`ChartPanel`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineSeries {
    /// Legend name; the same name has the same colour in every panel.
    pub name: String,
    /// The (x, y) points; they are joined in order of increasing x.
    pub points: Vec<(f64, f64)>,
}

/// Horizontal stacked bars, one per configuration, for `stacked_bar_svg` (e.g. the memory of
/// one GPU split into weights, activations, overheads, KV pool and free space).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackedBars {
    /// Title shown above the chart.
    pub title: String,
    /// Label of the horizontal axis with its unit, e.g. "Memory per GPU (GiB)".
    pub x_label: String,
    /// Unit appended to values in labels and tooltips, e.g. "GiB".
    pub unit: String,
    /// The segment categories, in stacking and legend order.
    pub categories: Vec<BarCategory>,
    /// The bars, top to bottom.
    pub bars: Vec<StackedBar>,
}

/// A segment category of [`StackedBars`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarCategory {
    /// Legend name, e.g. "KV cache pool".
    pub name: String,
    /// Draw in light grey and leave out of the "used" total (for free space).
    pub muted: bool,
}

/// One bar of [`StackedBars`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackedBar {
    /// Label left of the bar, e.g. "H100 80GB · TP4".
    pub label: String,
    /// One value per category, in the chart's unit; missing, negative or non-finite values
    /// count as zero.
    pub values: Vec<f64>,
    /// The capacity (e.g. GPU memory), drawn as a marker line and written after the bar.
    pub capacity: Option<f64>,
}

/// Renders the Pareto scatter: one colour per series, the frontier as a step line, the chosen
/// point ringed and labelled, limit lines dashed, a tooltip per point, and a legend.
pub fn pareto_svg(plot: &ParetoPlot) -> String {
    const WIDTH: f64 = 880.0;
    const HEIGHT: f64 = 560.0;
    let area = Area {
        left: 84.0,
        top: 56.0,
        right: WIDTH - 210.0,
        bottom: HEIGHT - 64.0,
    };
    let id = format!(
        "pareto-{:08x}",
        fingerprint(&[&plot.title, &plot.x_label, &plot.y_label])
    );

    let x_values = plot
        .points
        .iter()
        .map(|p| p.x)
        .chain(plot.vlines.iter().map(|l| l.0));
    let y_values = plot
        .points
        .iter()
        .map(|p| p.y)
        .chain(plot.hlines.iter().map(|l| l.0));
    let x_axis = Axis::new(x_values, plot.log_x, LogBase::Ten, area.left, area.right);
    let y_axis = Axis::new(y_values, plot.log_y, LogBase::Ten, area.bottom, area.top);

    let mut svg = open_svg(WIDTH, HEIGHT, &plot.title);
    let _ = write!(svg, r#"<defs><clipPath id="{id}-clip">"#);
    area.rect(&mut svg, "");
    svg.push_str("</clipPath></defs>\n");
    title_text(&mut svg, &plot.title, area.left, WIDTH - area.left - 8.0);
    draw_x_axis(&mut svg, &x_axis, &area, true, &plot.x_label);
    draw_y_axis(&mut svg, &y_axis, &area, &plot.y_label);

    let _ = write!(svg, r#"<g clip-path="url(#{id}-clip)">"#);
    svg.push('\n');
    for (value, label) in &plot.vlines {
        if x_axis.contains(*value) {
            let x = x_axis.map(*value);
            limit_line(&mut svg, x, area.top, x, area.bottom, label);
            let (text_x, anchor) = if x > area.right - 160.0 {
                (x - 4.0, "end")
            } else {
                (x + 4.0, "start")
            };
            limit_label(&mut svg, text_x, area.top + 14.0, anchor, label);
        }
    }
    for (value, label) in &plot.hlines {
        if y_axis.contains(*value) {
            let y = y_axis.map(*value);
            limit_line(&mut svg, area.left, y, area.right, y, label);
            limit_label(&mut svg, area.right - 4.0, y - 4.0, "end", label);
        }
    }

    let visible: Vec<&PlotPoint> = plot
        .points
        .iter()
        .filter(|p| x_axis.contains(p.x) && y_axis.contains(p.y))
        .collect();
    let colors = series_colors(visible.iter().map(|p| p.series.as_str()));

    // The frontier maximises both axes. Sorted by x, the boundary of what the candidates
    // attain drops at each point's x to the next point's y, then runs right to that point.
    let mut frontier: Vec<&PlotPoint> = visible.iter().copied().filter(|p| p.on_frontier).collect();
    frontier.sort_by(|a, b| a.x.total_cmp(&b.x).then(b.y.total_cmp(&a.y)));
    if frontier.len() >= 2 {
        let mut points = Vec::with_capacity(frontier.len() * 2);
        for (index, point) in frontier.iter().enumerate() {
            let (x, y) = (x_axis.map(point.x), y_axis.map(point.y));
            if index > 0 {
                points.push(format!(
                    "{},{}",
                    coord(x_axis.map(frontier[index - 1].x)),
                    coord(y)
                ));
            }
            points.push(format!("{},{}", coord(x), coord(y)));
        }
        let _ = writeln!(
            svg,
            r#"<polyline class="frontier" points="{}" fill="none" stroke="{INK}" stroke-width="1.5" stroke-linejoin="round"/>"#,
            points.join(" ")
        );
    }

    // Dominated points first, frontier points on top, so the frontier stays visible.
    let mut ordered = visible.clone();
    ordered.sort_by_key(|p| p.on_frontier);
    svg.push_str("<g class=\"points\">\n");
    for point in &ordered {
        let color = colors
            .get(point.series.as_str())
            .copied()
            .unwrap_or(PALETTE[0]);
        // Every point at full opacity: a translucent dark blue reads as the light blue of
        // another series. The frontier is told apart by its dark outline.
        let (stroke, opacity) = if point.on_frontier {
            (INK, "1")
        } else {
            ("#FFFFFF", "1")
        };
        let _ = writeln!(
            svg,
            r#"<circle cx="{}" cy="{}" r="4.5" fill="{color}" fill-opacity="{opacity}" stroke="{stroke}" stroke-width="1"><title>{}</title></circle>"#,
            coord(x_axis.map(point.x)),
            coord(y_axis.map(point.y)),
            escape(&point_tooltip(point, &plot.x_label, &plot.y_label)),
        );
    }
    svg.push_str("</g>\n");
    for point in visible.iter().filter(|p| p.chosen) {
        let (x, y) = (x_axis.map(point.x), y_axis.map(point.y));
        let _ = writeln!(
            svg,
            r#"<circle class="chosen" cx="{}" cy="{}" r="10" fill="none" stroke="{INK}" stroke-width="2.5"><title>{}</title></circle>"#,
            coord(x),
            coord(y),
            escape(&format!("Chosen: {}", point.label)),
        );
        let label = shorten(&format!("Chosen: {}", point.label), 48);
        let label_width = approx_text_width(&label, 12.0);
        // Right of the point when it fits inside the plot, else left of it; never past either
        // edge of the image.
        let (text_x, anchor) = if x + 15.0 + label_width <= area.right {
            (x + 15.0, "start")
        } else if x - 15.0 - label_width >= 4.0 {
            (x - 15.0, "end")
        } else {
            ((WIDTH - 8.0 - label_width).max(8.0), "start")
        };
        // Below the point when above it would collide with the top edge or limit labels.
        let text_y = if y < area.top + 40.0 {
            y + 26.0
        } else {
            y - 12.0
        };
        let box_width = approx_text_width(&label, 12.0) + 8.0;
        let box_x = if anchor == "end" {
            text_x - box_width + 4.0
        } else {
            text_x - 4.0
        };
        let _ = writeln!(
            svg,
            r##"<rect x="{}" y="{}" width="{}" height="18" rx="3" fill="#FFFFFF" fill-opacity="0.85"/>"##,
            coord(box_x),
            coord(text_y - 13.0),
            coord(box_width),
        );
        text_weighted(&mut svg, text_x, text_y, anchor, 12.0, INK, "600", &label);
    }
    svg.push_str("</g>\n");
    area.frame(&mut svg);
    if visible.is_empty() {
        no_data(&mut svg, &area);
    }

    // Legend, right of the plot.
    let mut legend = Legend::new(area.right + 24.0, area.top + 4.0);
    for (name, color) in ordered_series(&visible, &colors) {
        legend.entry(
            &mut svg,
            &format!(r#"<circle cx="6" cy="0" r="5" fill="{color}"/>"#),
            &name,
        );
    }
    if frontier.len() >= 2 {
        legend.entry(
            &mut svg,
            &format!(r#"<line x1="0" y1="0" x2="14" y2="0" stroke="{INK}" stroke-width="1.5"/>"#),
            "Pareto frontier",
        );
    }
    if visible.iter().any(|p| p.chosen) {
        legend.entry(
            &mut svg,
            &format!(
                r#"<circle cx="7" cy="0" r="6" fill="none" stroke="{INK}" stroke-width="2"/>"#
            ),
            "Chosen",
        );
    }
    if !plot.vlines.is_empty() || !plot.hlines.is_empty() {
        legend.entry(
            &mut svg,
            &format!(r#"<line x1="0" y1="0" x2="14" y2="0" stroke="{LIMIT}" stroke-width="1.5" stroke-dasharray="5 3"/>"#),
            "SLO limit",
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Renders curves against a shared x axis as stacked panels (one per [`ChartPanel`], each with
/// its own y axis and unit), with a legend above, point tooltips and dashed limit lines.
pub fn line_chart_svg(chart: &LineChart) -> String {
    const WIDTH: f64 = 880.0;
    const PANEL_HEIGHT: f64 = 190.0;
    const PANEL_GAP: f64 = 28.0;
    let left = 84.0;
    let right = WIDTH - 32.0;
    let id = format!("line-{:08x}", fingerprint(&[&chart.title, &chart.x_label]));

    let names: Vec<&str> = chart
        .panels
        .iter()
        .flat_map(|panel| panel.series.iter().map(|s| s.name.as_str()))
        .collect();
    let colors = series_colors(names.iter().copied());
    let legend_items: Vec<(String, &str)> = unique_in_order(names.iter().copied())
        .into_iter()
        .map(|name| {
            (
                name.to_string(),
                colors.get(name).copied().unwrap_or(PALETTE[0]),
            )
        })
        .collect();
    let legend_rows = legend_row_layout(&legend_items, left, right);
    let legend_height = legend_rows.len() as f64 * 20.0;
    let top = 48.0 + legend_height + 8.0;
    let panel_count = chart.panels.len().max(1);
    let height =
        top + panel_count as f64 * PANEL_HEIGHT + (panel_count - 1) as f64 * PANEL_GAP + 60.0;

    let x_values = chart.panels.iter().flat_map(|panel| {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
    });
    let x_axis = Axis::new(x_values, chart.log_x, LogBase::Two, left, right);

    let mut svg = open_svg(WIDTH, height, &chart.title);
    title_text(&mut svg, &chart.title, left, WIDTH - left - 8.0);
    for (row, items) in legend_rows.iter().enumerate() {
        let y = 44.0 + row as f64 * 20.0;
        for (x, name, color) in items {
            let _ = writeln!(
                svg,
                r#"<g transform="translate({},{})"><line x1="0" y1="0" x2="18" y2="0" stroke="{color}" stroke-width="2.5"/><circle cx="9" cy="0" r="3" fill="{color}"/>"#,
                coord(*x),
                coord(y)
            );
            text(&mut svg, 24.0, 4.0, "start", 12.0, INK, name);
            svg.push_str("</g>\n");
        }
    }

    let empty_panel = ChartPanel::default();
    let panels: Vec<&ChartPanel> = if chart.panels.is_empty() {
        vec![&empty_panel]
    } else {
        chart.panels.iter().collect()
    };
    for (index, panel) in panels.iter().enumerate() {
        let panel_top = top + index as f64 * (PANEL_HEIGHT + PANEL_GAP);
        let area = Area {
            left,
            top: panel_top,
            right,
            bottom: panel_top + PANEL_HEIGHT,
        };
        let y_values = panel
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .filter(|p| x_axis.contains(p.0))
                    .map(|p| p.1)
            })
            .chain(panel.hlines.iter().map(|l| l.0));
        let y_axis = Axis::new(y_values, panel.log_y, LogBase::Ten, area.bottom, area.top);
        let last = index + 1 == panels.len();
        let _ = write!(
            svg,
            r#"<g class="panel"><defs><clipPath id="{id}-clip-{index}">"#
        );
        area.rect(&mut svg, "");
        svg.push_str("</clipPath></defs>\n");
        draw_x_axis(
            &mut svg,
            &x_axis,
            &area,
            last,
            if last { &chart.x_label } else { "" },
        );
        draw_y_axis(&mut svg, &y_axis, &area, &panel.y_label);
        let _ = writeln!(svg, r#"<g clip-path="url(#{id}-clip-{index})">"#);
        for (value, label) in &panel.hlines {
            if y_axis.contains(*value) {
                let y = y_axis.map(*value);
                limit_line(&mut svg, area.left, y, area.right, y, label);
                limit_label(&mut svg, area.right - 4.0, y - 4.0, "end", label);
            }
        }
        let mut any = false;
        for series in &panel.series {
            let color = colors
                .get(series.name.as_str())
                .copied()
                .unwrap_or(PALETTE[0]);
            let mut points: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|p| x_axis.contains(p.0) && y_axis.contains(p.1))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if points.is_empty() {
                continue;
            }
            any = true;
            let path: Vec<String> = points
                .iter()
                .map(|p| format!("{},{}", coord(x_axis.map(p.0)), coord(y_axis.map(p.1))))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline class="series" points="{}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"><title>{}</title></polyline>"#,
                path.join(" "),
                escape(&series.name)
            );
            for point in &points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{}" cy="{}" r="3" fill="{color}"><title>{}</title></circle>"#,
                    coord(x_axis.map(point.0)),
                    coord(y_axis.map(point.1)),
                    escape(&format!(
                        "{}: {} = {}, {} = {}",
                        series.name,
                        axis_name(&chart.x_label),
                        format_significant(point.0),
                        axis_name(&panel.y_label),
                        format_significant(point.1)
                    ))
                );
            }
        }
        svg.push_str("</g>\n");
        area.frame(&mut svg);
        if !any {
            no_data(&mut svg, &area);
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// Renders horizontal stacked bars with a legend, per-segment tooltips, value labels where
/// they fit, a capacity marker and the used/capacity total after each bar.
pub fn stacked_bar_svg(chart: &StackedBars) -> String {
    const WIDTH: f64 = 880.0;
    const BAR_HEIGHT: f64 = 26.0;
    const BAR_GAP: f64 = 16.0;
    let left = 220.0;
    let right = WIDTH - 150.0;

    let legend_items: Vec<(String, &str)> = chart
        .categories
        .iter()
        .enumerate()
        .map(|(index, category)| (category.name.clone(), category_color(chart, index)))
        .collect();
    let legend_rows = legend_row_layout(&legend_items, 16.0, WIDTH - 16.0);
    let top = 48.0 + legend_rows.len() as f64 * 20.0 + 12.0;
    let bar_count = chart.bars.len().max(1);
    let plot_bottom = top + bar_count as f64 * (BAR_HEIGHT + BAR_GAP);
    let height = plot_bottom + 56.0;
    let area = Area {
        left,
        top,
        right,
        bottom: plot_bottom,
    };

    let clean = |value: f64| {
        if value.is_finite() && value > 0.0 {
            value
        } else {
            0.0
        }
    };
    let extents = chart.bars.iter().flat_map(|bar| {
        let total: f64 = bar.values.iter().map(|v| clean(*v)).sum();
        [total, bar.capacity.map_or(0.0, clean)]
    });
    let x_axis = Axis::new(extents.chain([0.0]), false, LogBase::Ten, left, right);

    let mut svg = open_svg(WIDTH, height, &chart.title);
    title_text(&mut svg, &chart.title, 16.0, WIDTH - 16.0 - 8.0);
    for (row, items) in legend_rows.iter().enumerate() {
        let y = 44.0 + row as f64 * 20.0;
        for (x, name, color) in items {
            let _ = writeln!(
                svg,
                r#"<g transform="translate({},{})"><rect x="0" y="-6" width="14" height="12" rx="2" fill="{color}"/>"#,
                coord(*x),
                coord(y)
            );
            text(&mut svg, 20.0, 4.0, "start", 12.0, INK, name);
            svg.push_str("</g>\n");
        }
    }
    draw_x_axis(&mut svg, &x_axis, &area, true, &chart.x_label);

    for (index, bar) in chart.bars.iter().enumerate() {
        let y = top + BAR_GAP / 2.0 + index as f64 * (BAR_HEIGHT + BAR_GAP);
        svg.push_str("<g class=\"bar\">\n");
        let _ = writeln!(svg, "<title>{}</title>", escape(&bar.label));
        text(
            &mut svg,
            left - 10.0,
            y + BAR_HEIGHT / 2.0 + 4.0,
            "end",
            12.0,
            INK,
            &shorten(&bar.label, 32),
        );
        let mut start = 0.0;
        let mut used = 0.0;
        for (category_index, category) in chart.categories.iter().enumerate() {
            let value = clean(bar.values.get(category_index).copied().unwrap_or(0.0));
            if value <= 0.0 {
                continue;
            }
            if !category.muted {
                used += value;
            }
            let x0 = x_axis.map(start);
            let x1 = x_axis.map(start + value);
            start += value;
            let color = category_color(chart, category_index);
            let _ = writeln!(
                svg,
                r##"<rect class="segment" x="{}" y="{}" width="{}" height="{BAR_HEIGHT}" fill="{color}" stroke="#FFFFFF" stroke-width="1"><title>{}</title></rect>"##,
                coord(x0),
                coord(y),
                coord((x1 - x0).max(0.0)),
                escape(&format!(
                    "{}: {}: {} {}",
                    bar.label,
                    category.name,
                    format_significant(value),
                    chart.unit
                ))
            );
            let label = format_significant(value);
            if x1 - x0 >= approx_text_width(&label, 11.0) + 8.0 {
                text(
                    &mut svg,
                    (x0 + x1) / 2.0,
                    y + BAR_HEIGHT / 2.0 + 4.0,
                    "middle",
                    11.0,
                    contrast_ink(color),
                    &label,
                );
            }
        }
        let mut summary = format!("{} {}", format_significant(used), chart.unit);
        if let Some(capacity) = bar.capacity.map(clean).filter(|c| *c > 0.0) {
            let x = x_axis.map(capacity);
            let _ = writeln!(
                svg,
                r#"<line class="capacity" x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{INK}" stroke-width="2"><title>{}</title></line>"#,
                coord(y - 4.0),
                coord(y + BAR_HEIGHT + 4.0),
                escape(&format!(
                    "Capacity: {} {}",
                    format_significant(capacity),
                    chart.unit
                )),
                x = coord(x),
            );
            summary = format!(
                "{} / {} {}",
                format_significant(used),
                format_significant(capacity),
                chart.unit
            );
        }
        let end = x_axis
            .map(start)
            .max(bar.capacity.map_or(left, |c| x_axis.map(clean(c))));
        text(
            &mut svg,
            end + 8.0,
            y + BAR_HEIGHT / 2.0 + 4.0,
            "start",
            12.0,
            INK,
            summary.trim(),
        );
        svg.push_str("</g>\n");
    }
    if chart.bars.is_empty() {
        no_data(&mut svg, &area);
    }
    svg.push_str("</svg>\n");
    svg
}

/// The colour of a stacked-bar category: muted ones grey, the others through the palette.
fn category_color(chart: &StackedBars, index: usize) -> &'static str {
    if chart.categories.get(index).is_some_and(|c| c.muted) {
        return MUTED_FILL;
    }
    let rank = chart
        .categories
        .iter()
        .take(index)
        .filter(|c| !c.muted)
        .count();
    PALETTE[rank % PALETTE.len()]
}

/// Dark or white text, whichever reads better on `background` (a `#RRGGBB` colour).
fn contrast_ink(background: &str) -> &'static str {
    let hex = background.trim_start_matches('#');
    let channel = |range: std::ops::Range<usize>| {
        hex.get(range)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0)
    };
    let luminance = 0.2126 * channel(0..2) + 0.7152 * channel(2..4) + 0.0722 * channel(4..6);
    if luminance > 0.5 {
        INK
    } else {
        "#FFFFFF"
    }
}

/// The plot rectangle inside the margins, in SVG user units.
struct Area {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Area {
    fn rect(&self, svg: &mut String, attributes: &str) {
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="{}" height="{}"{attributes}/>"#,
            coord(self.left),
            coord(self.top),
            coord(self.right - self.left),
            coord(self.bottom - self.top)
        );
    }

    fn frame(&self, svg: &mut String) {
        self.rect(
            svg,
            &format!(r#" fill="none" stroke="{AXIS}" stroke-width="1""#),
        );
        svg.push('\n');
    }
}

#[derive(Clone, Copy, PartialEq)]
enum LogBase {
    Two,
    Ten,
}

/// A mapping from data values to pixels, with its tick values.
struct Axis {
    low: f64,
    high: f64,
    log: bool,
    pixel_low: f64,
    pixel_high: f64,
    ticks: Vec<f64>,
}

impl Axis {
    /// An axis spanning `values` (non-finite ones ignored; non-positive ones too on a log axis)
    /// with "nice" rounded ends and ticks. A linear axis always includes zero.
    fn new(
        values: impl Iterator<Item = f64>,
        log: bool,
        base: LogBase,
        pixel_low: f64,
        pixel_high: f64,
    ) -> Self {
        let values: Vec<f64> = values
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let (low, high, ticks) = if log {
            log_ticks(&values, base)
        } else {
            linear_ticks(&values)
        };
        Axis {
            low,
            high,
            log,
            pixel_low,
            pixel_high,
            ticks,
        }
    }

    fn contains(&self, value: f64) -> bool {
        value.is_finite() && (!self.log || value > 0.0)
    }

    fn map(&self, value: f64) -> f64 {
        let (value, low, high) = if self.log {
            (
                value.max(f64::MIN_POSITIVE).ln(),
                self.low.ln(),
                self.high.ln(),
            )
        } else {
            (value, self.low, self.high)
        };
        let span = high - low;
        let t = if span.abs() > 0.0 && span.is_finite() {
            (value - low) / span
        } else {
            0.5
        };
        let pixel = self.pixel_low + t * (self.pixel_high - self.pixel_low);
        if pixel.is_finite() {
            pixel
        } else {
            self.pixel_low
        }
    }
}

fn linear_ticks(values: &[f64]) -> (f64, f64, Vec<f64>) {
    let (mut low, mut high) = values
        .iter()
        .fold((0.0_f64, 0.0_f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if high - low <= f64::EPSILON * high.abs().max(low.abs()).max(1.0) {
        if low == 0.0 {
            high = 1.0;
        } else {
            let pad = low.abs() * 0.1;
            low -= pad;
            high += pad;
        }
    }
    let step = nice_step((high - low) / 5.0);
    let first = (low / step).floor();
    let last = (high / step).ceil();
    let count = (last - first).clamp(1.0, 100.0) as usize;
    let ticks: Vec<f64> = (0..=count)
        .map(|i| {
            let tick = (first + i as f64) * step;
            if tick.abs() < step * 1e-9 {
                0.0
            } else {
                tick
            }
        })
        .collect();
    let low = ticks.first().copied().unwrap_or(0.0);
    let high = ticks.last().copied().unwrap_or(1.0);
    (low, high, ticks)
}

fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let residual = raw / magnitude;
    let nice = if residual < 1.5 {
        1.0
    } else if residual < 3.0 {
        2.0
    } else if residual < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn log_ticks(values: &[f64], base: LogBase) -> (f64, f64, Vec<f64>) {
    let radix: f64 = if base == LogBase::Two { 2.0 } else { 10.0 };
    let log = |v: f64| v.ln() / radix.ln();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (mut first, mut last) = if min.is_finite() && max.is_finite() {
        (
            log(min).floor().clamp(-300.0, 300.0),
            log(max).ceil().clamp(-300.0, 300.0),
        )
    } else {
        (0.0, 1.0)
    };
    if last <= first {
        last = first + 1.0;
    }
    if base == LogBase::Two && last - first < 2.0 {
        first -= 1.0;
        last += 1.0;
    }
    let low = radix.powf(first);
    let high = radix.powf(last);
    let decades = (last - first) as usize;
    let stride = decades.div_ceil(10).max(1);
    let mut ticks: Vec<f64> = (0..=decades)
        .step_by(stride)
        .map(|i| radix.powf(first + i as f64))
        .collect();
    if base == LogBase::Ten && decades <= 2 {
        let mut extra = Vec::new();
        for &power in &ticks {
            for factor in [2.0, 5.0] {
                let tick = power * factor;
                if tick < high {
                    extra.push(tick);
                }
            }
        }
        ticks.extend(extra);
        ticks.sort_by(f64::total_cmp);
    }
    (low, high, ticks)
}

/// A tick label: plain integers up to 9999, compact SI-suffixed numbers beyond.
fn tick_label(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 10_000.0 {
        format!("{value:.0}")
    } else {
        format_compact(value)
    }
}

fn draw_x_axis(svg: &mut String, axis: &Axis, area: &Area, labels: bool, title: &str) {
    svg.push_str("<g class=\"x-axis\">\n");
    for &tick in &axis.ticks {
        let x = coord(axis.map(tick));
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{GRID}" stroke-width="1"/>"#,
            coord(area.top),
            coord(area.bottom)
        );
        if labels {
            let _ = writeln!(
                svg,
                r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
                coord(area.bottom),
                coord(area.bottom + 5.0)
            );
            text(
                svg,
                axis.map(tick),
                area.bottom + 19.0,
                "middle",
                12.0,
                AXIS,
                &tick_label(tick),
            );
        }
    }
    if !title.is_empty() {
        text_weighted(
            svg,
            (area.left + area.right) / 2.0,
            area.bottom + 42.0,
            "middle",
            13.0,
            INK,
            "600",
            title,
        );
    }
    svg.push_str("</g>\n");
}

fn draw_y_axis(svg: &mut String, axis: &Axis, area: &Area, title: &str) {
    svg.push_str("<g class=\"y-axis\">\n");
    for &tick in &axis.ticks {
        let y = coord(axis.map(tick));
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID}" stroke-width="1"/>"#,
            coord(area.left),
            coord(area.right)
        );
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{AXIS}" stroke-width="1"/>"#,
            coord(area.left - 5.0),
            coord(area.left)
        );
        text(
            svg,
            area.left - 8.0,
            axis.map(tick) + 4.0,
            "end",
            12.0,
            AXIS,
            &tick_label(tick),
        );
    }
    if !title.is_empty() {
        let x = area.left - 62.0;
        let y = (area.top + area.bottom) / 2.0;
        let _ = writeln!(
            svg,
            r#"<text x="{x}" y="{y}" transform="rotate(-90 {x} {y})" text-anchor="middle" font-size="13" font-weight="600" fill="{INK}">{}</text>"#,
            escape(title),
            x = coord(x),
            y = coord(y),
        );
    }
    svg.push_str("</g>\n");
}

fn limit_line(svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, label: &str) {
    let _ = writeln!(
        svg,
        r#"<line class="limit" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"><title>{}</title></line>"#,
        coord(x1),
        coord(y1),
        coord(x2),
        coord(y2),
        escape(label)
    );
}

/// A limit line's label on a translucent white box, so data drawn underneath cannot hide it.
fn limit_label(svg: &mut String, x: f64, y: f64, anchor: &str, label: &str) {
    if label.is_empty() {
        return;
    }
    let width = approx_text_width(label, 11.0) + 6.0;
    let left = match anchor {
        "end" => x - width + 3.0,
        "middle" => x - width / 2.0,
        _ => x - 3.0,
    };
    let _ = writeln!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="15" rx="2" fill="#FFFFFF" fill-opacity="0.85"/>"##,
        coord(left),
        coord(y - 11.0),
        coord(width)
    );
    text(svg, x, y, anchor, 11.0, LIMIT, label);
}

fn open_svg(width: f64, height: f64, title: &str) -> String {
    let mut svg = String::with_capacity(16 * 1024);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" role="img">"#,
        w = coord(width),
        h = coord(height),
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(title));
    let _ = writeln!(
        svg,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#FFFFFF"/>"##,
        coord(width),
        coord(height)
    );
    svg
}

/// The title at the top left, in a smaller font when it would run past `max_width` pixels (down
/// to 11 px, then shortened with an ellipsis), so that it is never cut at the right edge.
fn title_text(svg: &mut String, title: &str, x: f64, max_width: f64) {
    if title.is_empty() {
        return;
    }
    const SIZE: f64 = 17.0;
    const MIN_SIZE: f64 = 11.0;
    let natural = approx_text_width(title, SIZE);
    let size = if natural <= max_width {
        SIZE
    } else {
        (SIZE * max_width / natural).max(MIN_SIZE).floor()
    };
    let fits = (max_width / (size * 0.6)).floor().max(1.0) as usize;
    text_weighted(
        svg,
        x,
        28.0,
        "start",
        size,
        INK,
        "700",
        &shorten(title, fits),
    );
}

fn no_data(svg: &mut String, area: &Area) {
    text(
        svg,
        (area.left + area.right) / 2.0,
        (area.top + area.bottom) / 2.0,
        "middle",
        14.0,
        AXIS,
        "No data",
    );
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, size: f64, fill: &str, content: &str) {
    text_weighted(svg, x, y, anchor, size, fill, "400", content);
}

#[allow(clippy::too_many_arguments)]
fn text_weighted(
    svg: &mut String,
    x: f64,
    y: f64,
    anchor: &str,
    size: f64,
    fill: &str,
    weight: &str,
    content: &str,
) {
    let weight = if weight == "400" {
        String::new()
    } else {
        format!(r#" font-weight="{weight}""#)
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{}" fill="{fill}"{weight}>{}</text>"#,
        coord(x),
        coord(y),
        coord(size),
        escape(content)
    );
}

/// A vertical list of legend entries.
struct Legend {
    x: f64,
    y: f64,
}

impl Legend {
    fn new(x: f64, y: f64) -> Self {
        Legend { x, y }
    }

    fn entry(&mut self, svg: &mut String, symbol: &str, name: &str) {
        let _ = write!(
            svg,
            r#"<g transform="translate({},{})">{symbol}"#,
            coord(self.x),
            coord(self.y)
        );
        text(svg, 22.0, 4.0, "start", 12.0, INK, &shorten(name, 24));
        if name.chars().count() > 24 {
            let _ = write!(svg, "<title>{}</title>", escape(name));
        }
        svg.push_str("</g>\n");
        self.y += 20.0;
    }
}

/// Lays out legend items left to right, wrapping into rows: each row lists (x, name, colour).
fn legend_row_layout<'a>(
    items: &'a [(String, &'a str)],
    left: f64,
    right: f64,
) -> Vec<Vec<(f64, String, &'a str)>> {
    let mut rows: Vec<Vec<(f64, String, &str)>> = Vec::new();
    let mut x = left;
    for (name, color) in items {
        let name = shorten(name, 40);
        let width = 24.0 + approx_text_width(&name, 12.0) + 18.0;
        if rows.is_empty() || (x + width > right && x > left) {
            rows.push(Vec::new());
            x = left;
        }
        if let Some(row) = rows.last_mut() {
            row.push((x, name, color));
        }
        x += width;
    }
    rows
}

/// Colours by series name, in order of first appearance.
fn series_colors<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, &'static str> {
    let mut colors = BTreeMap::new();
    for name in names {
        let next = colors.len();
        colors.entry(name).or_insert(PALETTE[next % PALETTE.len()]);
    }
    colors
}

fn ordered_series(
    points: &[&PlotPoint],
    colors: &BTreeMap<&str, &'static str>,
) -> Vec<(String, &'static str)> {
    unique_in_order(points.iter().map(|p| p.series.as_str()))
        .into_iter()
        .map(|name| {
            (
                name.to_string(),
                colors.get(name).copied().unwrap_or(PALETTE[0]),
            )
        })
        .collect()
}

fn unique_in_order<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

fn point_tooltip(point: &PlotPoint, x_label: &str, y_label: &str) -> String {
    let mut tooltip = String::new();
    if !point.label.is_empty() {
        tooltip.push_str(&point.label);
        tooltip.push('\n');
    }
    if !point.series.is_empty() {
        tooltip.push_str(&point.series);
        tooltip.push('\n');
    }
    let _ = write!(
        tooltip,
        "{}: {}\n{}: {}",
        axis_name(x_label),
        format_significant(point.x),
        axis_name(y_label),
        format_significant(point.y)
    );
    if point.on_frontier {
        tooltip.push_str("\non the Pareto frontier");
    }
    tooltip
}

fn axis_name(label: &str) -> &str {
    if label.is_empty() {
        "value"
    } else {
        label
    }
}

/// A rough text width for layout (no font metrics in a string generator): 0.6 em a character.
fn approx_text_width(text: &str, font_size: f64) -> f64 {
    text.chars().count() as f64 * font_size * 0.6
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// A coordinate with at most two decimals; non-finite values become 0 so the SVG stays valid.
fn coord(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_string();
    }
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Escapes text for XML/HTML content and attribute values, dropping characters XML 1.0 forbids.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A stable 32-bit FNV-1a hash, to give each chart's clip-path ids a distinct prefix when
/// several charts share one HTML page.
fn fingerprint(parts: &[&str]) -> u32 {
    let mut hash: u32 = 0x811C_9DC5;
    for part in parts {
        for byte in part.bytes().chain([0xFF]) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks that `markup` is well-formed enough for our generators: every tag closes in
    /// order, attribute values are quoted and contain no `<`, and every numeric geometry
    /// attribute holds finite numbers only. Returns the element names in document order.
    pub(crate) fn check_markup(markup: &str, void_elements: &[&str]) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut elements = Vec::new();
        let mut rest = markup;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            if let Some(comment) = after.strip_prefix("!--") {
                let end = comment.find("-->").expect("unterminated comment");
                rest = &comment[end + 3..];
                continue;
            }
            let end = after.find('>').expect("unterminated tag");
            let tag = &after[..end];
            rest = &after[end + 1..];
            if tag.starts_with('!') || tag.starts_with('?') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("closing </{name}> without an open tag"));
                assert_eq!(open, name.trim(), "mismatched closing tag");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
            assert!(!name.is_empty(), "empty tag name");
            check_attributes(&name, &tag[name.len()..]);
            elements.push(name.clone());
            if !self_closing && !void_elements.contains(&name.as_str()) {
                stack.push(name.clone());
                if name == "script" || name == "style" {
                    let close = format!("</{name}>");
                    let end = rest.find(&close).expect("unterminated script/style");
                    rest = &rest[end..];
                }
            }
        }
        assert!(stack.is_empty(), "unclosed tags: {stack:?}");
        elements
    }

    fn check_attributes(element: &str, mut attributes: &str) {
        const NUMERIC: [&str; 14] = [
            "x",
            "y",
            "x1",
            "x2",
            "y1",
            "y2",
            "cx",
            "cy",
            "r",
            "width",
            "height",
            "points",
            "viewBox",
            "font-size",
        ];
        loop {
            attributes = attributes.trim_start();
            if attributes.is_empty() {
                return;
            }
            let eq = attributes
                .find('=')
                .unwrap_or_else(|| panic!("attribute without value in <{element}{attributes}>"));
            let name = attributes[..eq].trim();
            let quoted = &attributes[eq + 1..];
            let quote = quoted.chars().next().expect("missing attribute value");
            assert!(
                quote == '"' || quote == '\'',
                "unquoted attribute {name} in <{element}>"
            );
            let close = quoted[1..]
                .find(quote)
                .expect("unterminated attribute value");
            let value = &quoted[1..=close];
            assert!(!value.contains('<'), "raw < in attribute {name}");
            if NUMERIC.contains(&name)
                && !(element == "svg" && (name == "width" || name == "height"))
            {
                for number in value.split([' ', ',']).filter(|s| !s.is_empty()) {
                    let parsed: f64 = number
                        .parse()
                        .unwrap_or_else(|_| panic!("{name}={value:?} is not numeric"));
                    assert!(parsed.is_finite(), "{name}={value:?} is not finite");
                }
            }
            if name == "transform" {
                assert!(
                    !value.contains("NaN") && !value.contains("inf"),
                    "bad transform {value}"
                );
            }
            attributes = &quoted[close + 2..];
        }
    }

    fn check_svg(svg: &str) -> Vec<String> {
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "root element"
        );
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(!svg.contains("NaN"));
        check_markup(svg, &[])
    }

    fn count(elements: &[String], name: &str) -> usize {
        elements.iter().filter(|e| *e == name).count()
    }

    fn sample_pareto() -> ParetoPlot {
        let mut points = Vec::new();
        for (series_index, series) in ["H100 <SXM>", "A100 & co", "L40S"].iter().enumerate() {
            for i in 1..=8 {
                let x = 10.0 * f64::from(i);
                let y = 5000.0 / f64::from(i) * (1.0 + series_index as f64 * 0.2);
                points.push(PlotPoint {
                    x,
                    y,
                    series: series.to_string(),
                    label: format!("{series} TP{i}"),
                    on_frontier: series_index == 2,
                    chosen: series_index == 2 && i == 3,
                });
            }
        }
        ParetoPlot {
            title: "Throughput vs interactivity".into(),
            x_label: "Tokens/s per user".into(),
            y_label: "Tokens/s per GPU".into(),
            points,
            vlines: vec![(20.0, "ITL ≤ 50 ms".into())],
            hlines: vec![(1000.0, "min 1k tok/s/GPU".into())],
            ..ParetoPlot::default()
        }
    }

    /// The x, anchor and text of every `<text>` element.
    fn texts(svg: &str) -> Vec<(f64, String, f64, String)> {
        svg.lines()
            // Rotated labels (the y-axis title) run vertically: not checked here.
            .filter(|l| l.starts_with("<text x=\"") && !l.contains("transform="))
            .map(|l| {
                let attr = |name: &str| {
                    let start = l.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
                    let end = start + l[start..].find('"').expect("closing quote");
                    l[start..end].to_string()
                };
                let content_start = l.find('>').expect("tag end") + 1;
                let content_end = l.rfind("</text>").expect("closing tag");
                (
                    attr("x").parse().expect("x"),
                    attr("text-anchor"),
                    attr("font-size").parse().expect("font-size"),
                    l[content_start..content_end].to_string(),
                )
            })
            .collect()
    }

    /// Left and right edge of a text element (at the 0.6 em per character estimate).
    fn extent(x: f64, anchor: &str, size: f64, content: &str) -> (f64, f64) {
        let width = content.chars().count() as f64 * size * 0.6;
        match anchor {
            "end" => (x - width, x),
            "middle" => (x - width / 2.0, x + width / 2.0),
            _ => (x, x + width),
        }
    }

    #[test]
    fn chosen_label_and_titles_stay_inside_the_image_and_points_are_opaque() {
        // The chosen point at the far left and at the far right of the x range.
        for chosen_x in [1.0, 200.0] {
            let mut plot = sample_pareto();
            plot.title = format!("{} with a very long title that would run past the right edge of the image otherwise", "x".repeat(40));
            plot.points.push(PlotPoint {
                x: chosen_x,
                y: 3000.0,
                series: "B200".into(),
                label: "8x b200 tp8 fp8*/fp8 vllm a long configuration label".into(),
                on_frontier: true,
                chosen: true,
            });
            for p in plot.points.iter_mut().take(24) {
                p.chosen = false;
            }
            let svg = pareto_svg(&plot);
            check_svg(&svg);
            for (x, anchor, size, content) in texts(&svg) {
                let (left, right) = extent(x, &anchor, size, &content);
                assert!(
                    left >= 0.0 && right <= 880.0,
                    "text {content:?} spans {left:.0}..{right:.0}, outside 0..880"
                );
            }
            assert!(
                !svg.contains("fill-opacity=\"0.75\""),
                "no translucent points"
            );
        }
        let chart = LineChart {
            title: "1x b200 tp1 bf16/bf16: latency and throughput against concurrency (one replica), long".into(),
            x_label: "Concurrent requests".into(),
            log_x: true,
            panels: vec![ChartPanel {
                y_label: "TTFT (ms)".into(),
                series: vec![LineSeries {
                    name: "b200".into(),
                    points: vec![(1.0, 10.0), (2.0, 12.0)],
                }],
                hlines: Vec::new(),
                log_y: false,
            }],
        };
        let svg = line_chart_svg(&chart);
        for (x, anchor, size, content) in texts(&svg) {
            let (left, right) = extent(x, &anchor, size, &content);
            assert!(
                left >= 0.0 && right <= 880.0,
                "{content:?}: {left:.0}..{right:.0}"
            );
        }
    }

    #[test]
    fn pareto_has_points_frontier_choice_limits_and_legend() {
        let svg = pareto_svg(&sample_pareto());
        let elements = check_svg(&svg);
        assert_eq!(
            svg.matches("<circle cx").count(),
            24 + 3 + 1,
            "24 points, 3 legend dots, 1 legend ring"
        );
        assert_eq!(svg.matches("class=\"frontier\"").count(), 1);
        assert_eq!(svg.matches("class=\"chosen\"").count(), 1);
        assert_eq!(svg.matches("class=\"limit\"").count(), 2);
        assert!(svg.contains("Chosen: L40S TP3"));
        assert!(
            svg.contains("H100 &lt;SXM&gt;") && svg.contains("A100 &amp; co"),
            "escaped series names"
        );
        assert!(!svg.contains("<SXM>"));
        assert!(svg.contains("Tokens/s per user") && svg.contains("Tokens/s per GPU"));
        assert!(svg.contains("Pareto frontier") && svg.contains("SLO limit"));
        assert!(count(&elements, "title") >= 25, "a tooltip per point");
        assert!(
            svg.contains(">5000<") || svg.contains(">6k<") || svg.contains(">4000<"),
            "nice y ticks"
        );
    }

    #[test]
    fn pareto_log_axes() {
        let plot = ParetoPlot {
            log_x: true,
            log_y: true,
            ..sample_pareto()
        };
        let svg = pareto_svg(&plot);
        check_svg(&svg);
        assert!(
            svg.contains(">10<") && svg.contains(">100<"),
            "decade ticks"
        );
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        let single = ParetoPlot {
            points: vec![PlotPoint {
                x: 5.0,
                y: 5.0,
                chosen: true,
                on_frontier: true,
                ..PlotPoint::default()
            }],
            ..ParetoPlot::default()
        };
        let equal = ParetoPlot {
            points: vec![
                PlotPoint {
                    x: 3.0,
                    y: 0.0,
                    ..PlotPoint::default()
                },
                PlotPoint {
                    x: 3.0,
                    y: 0.0,
                    ..PlotPoint::default()
                },
            ],
            log_x: true,
            ..ParetoPlot::default()
        };
        let hostile = ParetoPlot {
            points: vec![
                PlotPoint {
                    x: f64::NAN,
                    y: 1.0,
                    ..PlotPoint::default()
                },
                PlotPoint {
                    x: f64::INFINITY,
                    y: f64::NEG_INFINITY,
                    ..PlotPoint::default()
                },
                PlotPoint {
                    x: -1.0,
                    y: 2.0,
                    ..PlotPoint::default()
                },
                PlotPoint {
                    x: 1e300,
                    y: 1e-300,
                    ..PlotPoint::default()
                },
            ],
            vlines: vec![(f64::NAN, "nan".into())],
            log_x: true,
            log_y: true,
            ..ParetoPlot::default()
        };
        for plot in [ParetoPlot::default(), single, equal, hostile] {
            let svg = pareto_svg(&plot);
            check_svg(&svg);
            assert!(!svg.contains("inf\""));
        }
        assert!(pareto_svg(&ParetoPlot::default()).contains("No data"));

        let empty_line = line_chart_svg(&LineChart::default());
        check_svg(&empty_line);
        assert!(empty_line.contains("No data"));
        let flat = LineChart {
            log_x: true,
            panels: vec![ChartPanel {
                series: vec![LineSeries {
                    name: "one".into(),
                    points: vec![(1.0, 7.0)],
                }],
                log_y: true,
                ..ChartPanel::default()
            }],
            ..LineChart::default()
        };
        check_svg(&line_chart_svg(&flat));
        let empty_bars = stacked_bar_svg(&StackedBars::default());
        check_svg(&empty_bars);
        let zero_bars = StackedBars {
            categories: vec![BarCategory {
                name: "weights".into(),
                muted: false,
            }],
            bars: vec![StackedBar {
                label: "zero".into(),
                values: vec![0.0, f64::NAN],
                capacity: Some(f64::INFINITY),
            }],
            ..StackedBars::default()
        };
        check_svg(&stacked_bar_svg(&zero_bars));
    }

    #[test]
    fn line_chart_small_multiples_with_log2_axis() {
        let concurrency = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
        let series = |name: &str, f: &dyn Fn(f64) -> f64| LineSeries {
            name: name.into(),
            points: concurrency.iter().map(|&c| (c, f(c))).collect(),
        };
        let chart = LineChart {
            title: "Latency vs concurrency".into(),
            x_label: "Concurrent requests".into(),
            log_x: true,
            panels: vec![
                ChartPanel {
                    y_label: "TTFT (ms)".into(),
                    series: vec![
                        series("H100", &|c| 100.0 + c),
                        series("A100", &|c| 150.0 + 2.0 * c),
                    ],
                    hlines: vec![(500.0, "TTFT SLO 500 ms".into())],
                    log_y: false,
                },
                ChartPanel {
                    y_label: "ITL (ms)".into(),
                    series: vec![
                        series("H100", &|c| 10.0 + c / 10.0),
                        series("A100", &|c| 15.0 + c / 8.0),
                    ],
                    ..ChartPanel::default()
                },
                ChartPanel {
                    y_label: "Throughput (tok/s)".into(),
                    series: vec![series("H100", &|c| 40.0 * c), series("A100", &|c| 25.0 * c)],
                    ..ChartPanel::default()
                },
            ],
        };
        let svg = line_chart_svg(&chart);
        let elements = check_svg(&svg);
        assert_eq!(svg.matches("class=\"panel\"").count(), 3);
        assert_eq!(svg.matches("class=\"series\"").count(), 6);
        assert_eq!(count(&elements, "polyline"), 6);
        for tick in [">1<", ">2<", ">64<", ">512<", ">20k<"] {
            assert!(svg.contains(tick), "missing tick {tick}");
        }
        assert!(svg.contains("TTFT SLO 500 ms") && svg.contains("Throughput (tok/s)"));
        // Same series, same colour in every panel.
        let blue = svg
            .matches(&format!("stroke=\"{}\" stroke-width=\"2\"", PALETTE[0]))
            .count();
        assert_eq!(blue, 3);
    }

    #[test]
    fn stacked_bars_have_segments_capacity_and_legend() {
        let chart = StackedBars {
            title: "Memory per GPU".into(),
            x_label: "GiB".into(),
            unit: "GiB".into(),
            categories: [
                "Weights",
                "Activations",
                "Overheads",
                "KV cache pool",
                "Free",
            ]
            .iter()
            .map(|name| BarCategory {
                name: name.to_string(),
                muted: *name == "Free",
            })
            .collect(),
            bars: vec![
                StackedBar {
                    label: "H100 80GB · TP4".into(),
                    values: vec![35.0, 2.0, 3.0, 32.0, 7.2],
                    capacity: Some(79.2),
                },
                StackedBar {
                    label: "A100 40GB <TP8>".into(),
                    values: vec![17.5, 1.0, 3.0, 14.0, 3.5],
                    capacity: Some(39.5),
                },
            ],
        };
        let svg = stacked_bar_svg(&chart);
        check_svg(&svg);
        assert_eq!(svg.matches("class=\"segment\"").count(), 10);
        assert_eq!(svg.matches("class=\"capacity\"").count(), 2);
        assert!(
            svg.contains("72 / 79.2 GiB"),
            "used excludes the muted free segment"
        );
        assert!(svg.contains(MUTED_FILL));
        assert!(svg.contains("A100 40GB &lt;TP8&gt;"));
        assert!(svg.contains("KV cache pool"));
    }

    #[test]
    fn nice_ticks() {
        let (low, high, ticks) = linear_ticks(&[3.0, 97.0]);
        assert_eq!((low, high), (0.0, 100.0));
        assert_eq!(ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let (_, _, ticks) = linear_ticks(&[0.0, 0.3]);
        assert!(ticks.iter().all(|t| tick_label(*t).len() <= 4), "{ticks:?}");
        let (low, high, _) = log_ticks(&[1.0, 512.0], LogBase::Two);
        assert_eq!((low, high), (1.0, 512.0));
        assert_eq!(tick_label(1024.0), "1024");
        assert_eq!(tick_label(20_000.0), "20k");
        assert_eq!(coord(f64::NAN), "0");
        assert_eq!(coord(-0.001), "0");
        assert_eq!(coord(12.345_6), "12.35");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell");
    }
}
