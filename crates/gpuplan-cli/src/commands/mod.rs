//! One module per command; each exposes `run(args, &Context, out)`.

pub mod calibrate;
pub mod completions;
mod deployment;
pub mod estimate;
pub mod gpus;
pub mod memory;
pub mod model;
pub mod models;
pub mod recommend;
pub mod serve;
pub mod validate;

use std::io::Write;

use crate::render::{self, OutputFormat, Table};
use crate::Context;

/// Writes a table in the context's format.
pub(crate) fn write_table(table: &Table, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    out.write_all(render::render(table, ctx.format, &ctx.render).as_bytes())?;
    Ok(())
}

/// Writes a value as pretty JSON followed by a newline.
pub(crate) fn write_json<T: serde::Serialize>(
    value: &T,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    // Serialise first so that a closed pipe surfaces as an io::Error (exit 0, no message).
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Whether the format is for people (numbers in readable units) rather than machines.
pub(crate) fn is_human(format: OutputFormat) -> bool {
    matches!(format, OutputFormat::Table | OutputFormat::Markdown)
}

/// A parameter count for people: "8.03B", "671B", "1.03T", "12.6M".
pub(crate) fn human_params(count: u64) -> String {
    let value = count as f64;
    let (scaled, suffix) = if value >= 1e12 {
        (value / 1e12, "T")
    } else if value >= 1e9 {
        (value / 1e9, "B")
    } else if value >= 1e6 {
        (value / 1e6, "M")
    } else if value >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    format!("{}{suffix}", render::format_significant(scaled))
}

#[cfg(test)]
mod tests {
    use super::human_params;

    #[test]
    fn params_read_like_model_cards() {
        assert_eq!(human_params(8_030_261_248), "8.03B");
        assert_eq!(human_params(671_026_419_200), "671B");
        assert_eq!(human_params(1_026_000_000_000), "1.03T");
        assert_eq!(human_params(512), "512");
    }
}
