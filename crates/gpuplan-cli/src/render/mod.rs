//! Rendering: tables, machine formats, SVG plots, HTML reports.
//!
//! Everything here is a pure function from small, generic input types ([`Table`],
//! [`ParetoPlot`], [`LineChart`], [`StackedBars`], [`Report`]) to a `String`; the commands fill
//! those types from the planner's results and decide where the text goes. Only
//! [`RenderOptions::detect`] looks at the environment.
//!
//! Human formats (table, Markdown, HTML, plots) show numbers in readable units ("45.6 ms",
//! "12.3k tok/s"); machine formats (CSV, JSON) carry raw numbers whose unit is in the field
//! name (`time_to_first_token_ms`).

mod html;
mod svg;
mod table;
mod units;

use std::io::IsTerminal;

pub use html::{html_escape, html_report, html_table, Report};
pub use svg::{
    line_chart_svg, pareto_svg, stacked_bar_svg, BarCategory, ChartPanel, LineChart, LineSeries,
    ParetoPlot, PlotPoint, StackedBar, StackedBars, PALETTE,
};
pub use table::{
    markdown_escape, render_csv, render_markdown, render_table, table_to_json_rows, Align, Cell,
    Column, Table,
};
pub use units::{format_compact, format_human, format_significant, ValueKind};

/// The output format every command offers through `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned table for people, fitted to the terminal width, with human units.
    #[default]
    Table,
    /// JSON with raw numbers and unit-suffixed field names.
    Json,
    /// CSV with a header of unit-suffixed column names and raw numbers.
    Csv,
    /// A GitHub-flavoured Markdown table with human units.
    Markdown,
}

/// The `--format` / `--json` flags, to be flattened into each command's arguments
/// (`#[command(flatten)] output: FormatArgs`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    /// The chosen format: `--json` wins, then `--format`, then the table.
    pub fn output_format(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.format.unwrap_or_default()
        }
    }
}

/// How human formats are laid out on the current output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Maximum line width in characters; tables hide or shrink columns to fit.
    pub width: usize,
    /// Whether to use ANSI colour and bold.
    pub color: bool,
}

/// The width of [`RenderOptions::default`], and where notes wrap when the width is unlimited.
pub const DEFAULT_WIDTH: usize = 100;

/// The width when standard output is not a terminal and `COLUMNS` is unset: tables are never
/// truncated for a pipe or a file.
pub const UNLIMITED_WIDTH: usize = usize::MAX;

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            width: DEFAULT_WIDTH,
            color: false,
        }
    }
}

impl RenderOptions {
    /// Options for standard output: width from `COLUMNS`, else the terminal, else (a pipe or a
    /// file) [`UNLIMITED_WIDTH`]; colour only when standard output is a terminal, `NO_COLOR` is unset
    /// or empty (<https://no-color.org>) and `TERM` is not `dumb`.
    pub fn detect() -> Self {
        let stdout = std::io::stdout();
        let is_terminal = stdout.is_terminal();
        let terminal_width = if is_terminal {
            terminal_size::terminal_size_of(&stdout).map(|(width, _)| usize::from(width.0))
        } else {
            None
        };
        Self::resolve(
            std::env::var("COLUMNS").ok().as_deref(),
            std::env::var_os("NO_COLOR")
                .map(|value| value.to_string_lossy().into_owned())
                .as_deref(),
            std::env::var("TERM").ok().as_deref(),
            is_terminal,
            terminal_width,
        )
    }

    /// The decision behind [`RenderOptions::detect`], from explicit inputs (for tests and for
    /// front ends that are not a terminal).
    pub fn resolve(
        columns_env: Option<&str>,
        no_color_env: Option<&str>,
        term_env: Option<&str>,
        is_terminal: bool,
        terminal_width: Option<usize>,
    ) -> Self {
        let width = columns_env
            .and_then(|value| value.trim().parse::<usize>().ok())
            .filter(|&width| width > 0)
            .or(terminal_width.filter(|&width| width > 0))
            .unwrap_or(if is_terminal {
                DEFAULT_WIDTH
            } else {
                UNLIMITED_WIDTH
            });
        let no_color = no_color_env.is_some_and(|value| !value.is_empty());
        let dumb = term_env == Some("dumb");
        RenderOptions {
            width,
            color: is_terminal && !no_color && !dumb,
        }
    }
}

/// Renders a table in the given format. JSON gives an array of row objects keyed by column
/// key (commands usually serialise their result structs instead). Ends with a newline.
pub fn render(table: &Table, format: OutputFormat, options: &RenderOptions) -> String {
    match format {
        OutputFormat::Table => render_table(table, options),
        OutputFormat::Markdown => render_markdown(table),
        OutputFormat::Csv => render_csv(table),
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&table_to_json_rows(table))
                .unwrap_or_else(|_| "[]".into());
            text.push('\n');
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn detect_rules() {
        let on_tty = RenderOptions::resolve(None, None, Some("xterm"), true, Some(132));
        assert_eq!(
            on_tty,
            RenderOptions {
                width: 132,
                color: true
            }
        );
        let no_color = RenderOptions::resolve(None, Some("1"), Some("xterm"), true, Some(132));
        assert!(!no_color.color);
        let empty_no_color = RenderOptions::resolve(None, Some(""), None, true, None);
        assert!(
            empty_no_color.color,
            "an empty NO_COLOR does not disable colour"
        );
        let piped = RenderOptions::resolve(None, None, None, false, None);
        assert_eq!(
            piped,
            RenderOptions {
                width: UNLIMITED_WIDTH,
                color: false
            }
        );
        let tty_without_size = RenderOptions::resolve(None, None, None, true, None);
        assert_eq!(tty_without_size.width, DEFAULT_WIDTH);
        let columns = RenderOptions::resolve(Some("72"), None, None, true, Some(200));
        assert_eq!(columns.width, 72);
        let bad_columns = RenderOptions::resolve(Some("wide"), None, None, false, None);
        assert_eq!(bad_columns.width, UNLIMITED_WIDTH);
        assert!(!RenderOptions::resolve(None, None, Some("dumb"), true, None).color);
    }

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        output: FormatArgs,
    }

    #[test]
    fn format_flags() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|cli| cli.output.output_format());
        assert_eq!(parse(&["x"]).ok(), Some(OutputFormat::Table));
        assert_eq!(parse(&["x", "--json"]).ok(), Some(OutputFormat::Json));
        assert_eq!(
            parse(&["x", "--format", "markdown"]).ok(),
            Some(OutputFormat::Markdown)
        );
        assert_eq!(
            parse(&["x", "--format", "csv"]).ok(),
            Some(OutputFormat::Csv)
        );
        assert!(parse(&["x", "--format", "csv", "--json"]).is_err());
    }

    #[test]
    fn render_dispatches() {
        let mut table = Table::new(vec![Column::new("latency_ms", "Latency", ValueKind::Ms)]);
        table.push_row(vec![1500.0.into()]);
        let options = RenderOptions::default();
        assert!(render(&table, OutputFormat::Table, &options).contains("1.5 s"));
        assert_eq!(
            render(&table, OutputFormat::Csv, &options),
            "latency_ms\n1500\n"
        );
        assert!(render(&table, OutputFormat::Markdown, &options).contains("| 1.5 s |"));
        let json: serde_json::Value =
            serde_json::from_str(&render(&table, OutputFormat::Json, &options)).unwrap_or_default();
        assert_eq!(json[0]["latency_ms"], serde_json::json!(1500.0));
    }
}
