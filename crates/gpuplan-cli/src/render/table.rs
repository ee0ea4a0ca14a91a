//! Tabular results and their text renderings: terminal table, Markdown, CSV and JSON rows.

use serde::{Deserialize, Serialize};

use super::units::{format_human, ValueKind};
use super::RenderOptions;

/// Horizontal alignment of a column in human renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// Flush left (the default for text).
    Left,
    /// Flush right (the default for numbers, so digits line up).
    Right,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Machine name with its unit suffix, used as the CSV header and JSON key
    /// (`time_to_first_token_ms`, `memory_per_gpu_gib`).
    pub key: String,
    /// Short header shown to people in tables, Markdown and HTML ("TTFT", "Mem/GPU").
    pub header: String,
    /// Unit of the raw values, which decides the human formatting.
    pub kind: ValueKind,
    /// Importance when the terminal is too narrow: the columns with the lowest priority are
    /// hidden first (ties: the rightmost first). The first column is never hidden.
    pub priority: u8,
    /// Alignment in human renderings.
    pub align: Align,
}

impl Column {
    /// A column with the alignment implied by `kind` (numbers right, text left) and a middle
    /// priority of 50.
    pub fn new(key: impl Into<String>, header: impl Into<String>, kind: ValueKind) -> Self {
        Column {
            key: key.into(),
            header: header.into(),
            kind,
            priority: 50,
            align: if kind.is_numeric() {
                Align::Right
            } else {
                Align::Left
            },
        }
    }

    /// Sets the importance used to pick the columns hidden on narrow terminals (higher keeps).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Overrides the alignment implied by the kind.
    pub fn align(mut self, align: Align) -> Self {
        self.align = align;
        self
    }
}

/// One value in a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// A raw number in the unit of its column's [`ValueKind`].
    Number(f64),
    /// Text; in a numeric column it is shown as is (e.g. "OOM").
    Text(String),
    /// No value: blank in tables and CSV, `null` in JSON.
    Missing,
}

impl Cell {
    /// The human rendering of this value for a column of the given kind.
    pub fn human(&self, kind: ValueKind) -> String {
        match self {
            Cell::Number(value) => format_human(*value, kind),
            Cell::Text(text) => text.clone(),
            Cell::Missing => String::new(),
        }
    }

    /// The exact machine rendering: the shortest decimal that round-trips, or the text.
    pub fn raw(&self) -> String {
        match self {
            Cell::Number(value) if value.is_finite() => format!("{value}"),
            Cell::Number(_) | Cell::Missing => String::new(),
            Cell::Text(text) => text.clone(),
        }
    }

    /// The JSON value: numbers as numbers (non-finite ones as `null`), text as strings.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Number(value) => serde_json::Number::from_f64(*value)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Cell::Text(text) => serde_json::Value::String(text.clone()),
            Cell::Missing => serde_json::Value::Null,
        }
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Cell::Number(value)
    }
}

impl From<f32> for Cell {
    fn from(value: f32) -> Self {
        Cell::Number(f64::from(value))
    }
}

macro_rules! cell_from_integer {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Cell {
            fn from(value: $ty) -> Self {
                // Counts in a plan are far below 2^53, where f64 stops being exact.
                Cell::Number(value as f64)
            }
        }
    )*};
}
cell_from_integer!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_string())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Cell::Text(if value { "yes" } else { "no" }.to_string())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Missing, Into::into)
    }
}

impl From<serde_json::Value> for Cell {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Cell::Missing,
            serde_json::Value::Number(number) => {
                number.as_f64().map_or(Cell::Missing, Cell::Number)
            }
            serde_json::Value::String(text) => Cell::Text(text),
            serde_json::Value::Bool(flag) => flag.into(),
            other => Cell::Text(other.to_string()),
        }
    }
}

/// A titled table of results: the common input of every tabular output format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Optional title printed above the table (not part of CSV).
    pub title: Option<String>,
    /// The columns, in display order.
    pub columns: Vec<Column>,
    /// The rows; each has one cell per column (short rows are padded with missing cells).
    pub rows: Vec<Vec<Cell>>,
    /// Footnotes printed below the table (not part of CSV).
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table with the given columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            ..Table::default()
        }
    }

    /// Sets the title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Appends a row of cells.
    pub fn push_row(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Appends a footnote.
    pub fn push_note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    fn cell(&self, row: usize, column: usize) -> &Cell {
        self.rows
            .get(row)
            .and_then(|cells| cells.get(column))
            .unwrap_or(&Cell::Missing)
    }
}

const SEPARATOR: &str = "  ";
/// Text columns are shrunk (with an ellipsis) down to this width before columns are hidden.
const MIN_TEXT_WIDTH: usize = 8;

/// Renders a table for a terminal: aligned columns under an underlined header, fitted to
/// `options.width` by shrinking text columns and then hiding the lowest-priority columns
/// (a note lists the hidden ones). Colour (bold header and title, dim notes) only when
/// `options.color` is set. The result ends with a newline.
pub fn render_table(table: &Table, options: &RenderOptions) -> String {
    let human: Vec<Vec<String>> = (0..table.rows.len())
        .map(|row| {
            table
                .columns
                .iter()
                .enumerate()
                .map(|(col, column)| sanitize_line(&table.cell(row, col).human(column.kind)))
                .collect()
        })
        .collect();
    let natural: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .map(|(col, column)| {
            human
                .iter()
                .map(|row| display_width(&row[col]))
                .chain(std::iter::once(display_width(&column.header)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let layout = fit_columns(table, &natural, options.width.max(1));

    let style = Style {
        color: options.color,
    };
    let mut out = String::new();
    if let Some(title) = &table.title {
        out.push_str(&style.bold(&sanitize_line(title)));
        out.push('\n');
    }
    if !table.columns.is_empty() {
        let header: Vec<String> = layout
            .iter()
            .map(|&(col, width)| {
                let column = &table.columns[col];
                pad(
                    &truncate(&sanitize_line(&column.header), width),
                    width,
                    column.align,
                )
            })
            .collect();
        out.push_str(&style.bold(header.join(SEPARATOR).trim_end()));
        out.push('\n');
        let rule: Vec<String> = layout.iter().map(|&(_, width)| "─".repeat(width)).collect();
        out.push_str(&style.dim(&rule.join(SEPARATOR)));
        out.push('\n');
        for row in &human {
            let cells: Vec<String> = layout
                .iter()
                .map(|&(col, width)| {
                    pad(&truncate(&row[col], width), width, table.columns[col].align)
                })
                .collect();
            out.push_str(cells.join(SEPARATOR).trim_end());
            out.push('\n');
        }
        if table.rows.is_empty() {
            out.push_str(&style.dim("(no rows)"));
            out.push('\n');
        }
    }
    let hidden: Vec<&str> = (0..table.columns.len())
        .filter(|col| !layout.iter().any(|&(shown, _)| shown == *col))
        .map(|col| table.columns[col].header.as_str())
        .collect();
    let mut notes: Vec<String> = table.notes.iter().map(|note| sanitize_line(note)).collect();
    if !hidden.is_empty() {
        notes.push(format!(
            "{} column(s) hidden to fit {} characters: {} (widen the terminal, set COLUMNS, or use --format csv/json)",
            hidden.len(),
            options.width,
            hidden.join(", ")
        ));
    }
    // Notes are prose: on an unlimited width (a pipe) they still wrap at the default width.
    let note_width = if options.width == super::UNLIMITED_WIDTH {
        super::DEFAULT_WIDTH
    } else {
        options.width
    };
    for note in notes {
        for line in wrap(&note, note_width.max(20).saturating_sub(2)) {
            out.push_str(&style.dim(&format!("  {line}")));
            out.push('\n');
        }
    }
    out
}

/// Chooses which columns to show and how wide: the shown columns in order, each with its width.
fn fit_columns(table: &Table, natural: &[usize], width: usize) -> Vec<(usize, usize)> {
    let mut shown: Vec<usize> = (0..table.columns.len()).collect();
    loop {
        let mut widths: Vec<usize> = shown.iter().map(|&col| natural[col]).collect();
        let separators = SEPARATOR.len() * shown.len().saturating_sub(1);
        let total = |widths: &[usize]| widths.iter().sum::<usize>() + separators;
        // Shrink the widest text column one character at a time until it fits or nothing can shrink.
        while total(&widths) > width {
            let widest = shown
                .iter()
                .enumerate()
                .filter(|(_, &col)| table.columns[col].kind == ValueKind::Text)
                .filter(|(index, _)| widths[*index] > MIN_TEXT_WIDTH)
                .max_by_key(|(index, _)| widths[*index])
                .map(|(index, _)| index);
            match widest {
                Some(index) => widths[index] -= 1,
                None => break,
            }
        }
        if total(&widths) <= width || shown.len() <= 1 {
            if shown.len() == 1 && widths[0] > width {
                widths[0] = width;
            }
            return shown.into_iter().zip(widths).collect();
        }
        // Hide the least important column (never the first); ties go to the rightmost.
        let victim = shown
            .iter()
            .enumerate()
            .skip(1)
            .min_by_key(|(index, &col)| (table.columns[col].priority, usize::MAX - index))
            .map(|(index, _)| index);
        match victim {
            Some(index) => {
                shown.remove(index);
            }
            None => return shown.into_iter().zip(widths).collect(),
        }
    }
}

/// Renders a GitHub-flavoured Markdown table with human units, preceded by the title as a
/// level-3 heading and followed by the notes as a list.
pub fn render_markdown(table: &Table) -> String {
    let mut out = String::new();
    if let Some(title) = &table.title {
        out.push_str(&format!("### {}\n\n", markdown_escape(title)));
    }
    if !table.columns.is_empty() {
        let headers: Vec<String> = table
            .columns
            .iter()
            .map(|column| markdown_escape(&column.header))
            .collect();
        out.push_str(&format!("| {} |\n", headers.join(" | ")));
        let rules: Vec<&str> = table
            .columns
            .iter()
            .map(|column| match column.align {
                Align::Left => ":---",
                Align::Right => "---:",
            })
            .collect();
        out.push_str(&format!("| {} |\n", rules.join(" | ")));
        for row in 0..table.rows.len() {
            let cells: Vec<String> = table
                .columns
                .iter()
                .enumerate()
                .map(|(col, column)| markdown_escape(&table.cell(row, col).human(column.kind)))
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    if !table.notes.is_empty() {
        out.push('\n');
        for note in &table.notes {
            out.push_str(&format!("- {}\n", markdown_escape(note)));
        }
    }
    out
}

/// Escapes text for a Markdown table cell: pipes, backslashes and inline markup characters,
/// with line breaks turned into spaces.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// Renders CSV (RFC 4180): a header row of column keys, then raw numbers in the units named
/// by the keys. Title and notes are left out so the output stays machine-readable.
pub fn render_csv(table: &Table) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut records: Vec<Vec<String>> = Vec::with_capacity(table.rows.len() + 1);
    records.push(
        table
            .columns
            .iter()
            .map(|column| column.key.clone())
            .collect(),
    );
    for row in 0..table.rows.len() {
        records.push(
            (0..table.columns.len())
                .map(|col| table.cell(row, col).raw())
                .collect(),
        );
    }
    for record in records {
        // Writing to a Vec cannot fail for I/O reasons; stop at the first error regardless.
        if writer.write_record(&record).is_err() {
            break;
        }
    }
    match writer.into_inner() {
        Ok(bytes) => String::from_utf8(bytes)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()),
        Err(_) => String::new(),
    }
}

/// The rows as JSON objects keyed by column key, with raw numbers (`null` for missing values).
pub fn table_to_json_rows(table: &Table) -> serde_json::Value {
    let rows = (0..table.rows.len())
        .map(|row| {
            let object: serde_json::Map<String, serde_json::Value> = table
                .columns
                .iter()
                .enumerate()
                .map(|(col, column)| (column.key.clone(), table.cell(row, col).to_json()))
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// ANSI styling that turns itself off when colour is disabled.
struct Style {
    color: bool,
}

impl Style {
    fn bold(&self, text: &str) -> String {
        self.wrap(text, "\x1b[1m")
    }

    fn dim(&self, text: &str) -> String {
        self.wrap(text, "\x1b[2m")
    }

    fn wrap(&self, text: &str, code: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{code}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The number of terminal cells `text` occupies. Counts characters, which is exact for the
/// Latin text, digits and symbols tables contain.
fn display_width(text: &str) -> usize {
    text.chars().count()
}

/// Replaces control characters (including escape sequences' ESC and newlines) with spaces so
/// untrusted text cannot break the layout or inject terminal codes.
fn sanitize_line(text: &str) -> String {
    text.chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect()
}

fn truncate(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

fn pad(text: &str, width: usize, align: Align) -> String {
    let fill = " ".repeat(width.saturating_sub(display_width(text)));
    match align {
        Align::Left => format!("{text}{fill}"),
        Align::Right => format!("{fill}{text}"),
    }
}

/// Greedy word wrap to `width` characters; words longer than a line are split.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        loop {
            let line_len = display_width(&line);
            let word_len = display_width(&word);
            let needed = if line.is_empty() {
                word_len
            } else {
                line_len + 1 + word_len
            };
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // The word alone is too long: split it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(vec![
            Column::new("rank", "#", ValueKind::Count).priority(255),
            Column::new("gpu", "GPU", ValueKind::Text).priority(200),
            Column::new("time_to_first_token_ms", "TTFT", ValueKind::Ms).priority(150),
            Column::new("inter_token_latency_ms", "ITL", ValueKind::Ms).priority(140),
            Column::new("throughput_per_gpu_tok_s", "tok/s/GPU", ValueKind::TokS).priority(100),
            Column::new("memory_per_gpu_gib", "Mem/GPU", ValueKind::Gib).priority(20),
            Column::new("cost_usd_per_hour", "Cost", ValueKind::UsdPerHour).priority(120),
        ])
        .with_title("Ranked configurations");
        table.push_row(vec![
            1.into(),
            "H100 SXM 80GB x4 (TP4)".into(),
            123.4.into(),
            12.34.into(),
            12_345.0.into(),
            79.2.into(),
            9.8.into(),
        ]);
        table.push_row(vec![
            2.into(),
            "A100 | 80GB".into(),
            1234.0.into(),
            Cell::Missing,
            456.0.into(),
            40.0.into(),
            4.0.into(),
        ]);
        table.push_note("Prices are on-demand list prices.");
        table
    }

    fn plain(width: usize) -> RenderOptions {
        RenderOptions {
            width,
            color: false,
        }
    }

    #[test]
    fn wide_table_shows_everything_in_human_units() {
        let out = render_table(&sample(), &plain(200));
        assert!(out.starts_with("Ranked configurations\n"));
        for expected in [
            "TTFT",
            "Mem/GPU",
            "123 ms",
            "1.23 s",
            "12.3 ms",
            "12.3k tok/s",
            "79.2 GiB",
            "$9.80/h",
            "H100 SXM 80GB x4 (TP4)",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in\n{out}");
        }
        assert!(out.contains("Prices are on-demand"));
        assert!(!out.contains("hidden"));
        assert!(!out.contains('\x1b'), "no colour when disabled");
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "no trailing spaces");
        }
    }

    #[test]
    fn narrow_table_drops_low_priority_columns_first() {
        let out = render_table(&sample(), &plain(55));
        for line in out.lines() {
            assert!(line.chars().count() <= 55, "line too long: {line:?}");
        }
        assert!(
            !out.contains("Mem/GPU  ") && !out.contains("79.2 GiB"),
            "{out}"
        );
        assert!(
            out.contains("tok/s/GPU") && out.contains("$9.80/h"),
            "only the least important column goes: {out}"
        );
        assert!(out.contains("1 column(s) hidden to fit 55"), "{out}");
        assert!(
            out.contains("Mem/GPU"),
            "the note names the hidden column: {out}"
        );
    }

    #[test]
    fn text_columns_shrink_before_columns_are_hidden() {
        let full = render_table(&sample(), &plain(200));
        let header_len = full.lines().nth(1).map_or(0, |line| line.chars().count());
        let out = render_table(&sample(), &plain(header_len - 5));
        assert!(out.contains('…'), "{out}");
        assert!(!out.contains("hidden"), "{out}");
    }

    #[test]
    fn very_narrow_table_keeps_first_column_and_does_not_panic() {
        for width in [0, 1, 3, 10] {
            let out = render_table(&sample(), &plain(width));
            assert!(out.contains('#'));
        }
        let empty = render_table(&Table::default(), &plain(80));
        assert_eq!(empty, "");
        let no_rows = render_table(&Table::new(sample().columns), &plain(200));
        assert!(no_rows.contains("(no rows)"));
    }

    #[test]
    fn colour_only_when_enabled() {
        let coloured = render_table(
            &sample(),
            &RenderOptions {
                width: 200,
                color: true,
            },
        );
        assert!(coloured.contains("\x1b[1m"));
        let plain_out = render_table(&sample(), &plain(200));
        assert!(!plain_out.contains('\x1b'));
    }

    #[test]
    fn control_characters_are_neutralised() {
        let mut table = Table::new(vec![Column::new("name", "Name", ValueKind::Text)]);
        table.push_row(vec!["evil\x1b[31mred\nline".into()]);
        let out = render_table(&table, &plain(80));
        assert!(!out.contains('\x1b'));
        assert_eq!(out.lines().count(), 3);
    }

    #[test]
    fn markdown_output() {
        let out = render_markdown(&sample());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "### Ranked configurations");
        assert_eq!(
            lines[2],
            "| # | GPU | TTFT | ITL | tok/s/GPU | Mem/GPU | Cost |"
        );
        assert_eq!(
            lines[3],
            "| ---: | :--- | ---: | ---: | ---: | ---: | ---: |"
        );
        assert!(lines[4].starts_with("| 1 | H100 SXM 80GB x4 (TP4) | 123 ms |"));
        assert!(
            lines[5].contains("A100 \\| 80GB"),
            "pipes are escaped: {}",
            lines[5]
        );
        assert!(
            lines[5].contains("|  |"),
            "missing cell is empty: {}",
            lines[5]
        );
        assert_eq!(
            lines.last().copied(),
            Some("- Prices are on-demand list prices.")
        );
    }

    #[test]
    fn csv_output_has_keys_and_raw_numbers() {
        let out = render_csv(&sample());
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        let headers = reader
            .headers()
            .map(|h| h.iter().map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        assert_eq!(headers[2], "time_to_first_token_ms");
        let records: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[0][2], "123.4");
        assert_eq!(&records[0][4], "12345");
        assert_eq!(&records[1][1], "A100 | 80GB");
        assert_eq!(&records[1][3], "");
        assert!(!out.contains("Ranked"), "no title in CSV");
    }

    #[test]
    fn json_rows_use_keys_and_raw_numbers() {
        let rows = table_to_json_rows(&sample());
        assert_eq!(rows[0]["time_to_first_token_ms"], serde_json::json!(123.4));
        assert_eq!(rows[1]["inter_token_latency_ms"], serde_json::Value::Null);
        assert_eq!(rows[1]["gpu"], serde_json::json!("A100 | 80GB"));
        assert_eq!(Cell::Number(f64::NAN).to_json(), serde_json::Value::Null);
    }

    #[test]
    fn cells_from_common_types() {
        assert_eq!(Cell::from(Some(2u32)), Cell::Number(2.0));
        assert_eq!(Cell::from(None::<f64>), Cell::Missing);
        assert_eq!(Cell::from(serde_json::json!(1.5)), Cell::Number(1.5));
        assert_eq!(Cell::from(true), Cell::Text("yes".into()));
    }

    #[test]
    fn wrap_splits_long_words() {
        assert_eq!(wrap("aaaaaaaaaa bb", 4), vec!["aaaa", "aaaa", "aa", "bb"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}
