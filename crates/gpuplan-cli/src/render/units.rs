//! Human-readable number formatting for tables, Markdown, HTML and plot labels.
//!
//! Machine formats (JSON, CSV) never go through this module: they carry raw numbers whose
//! unit is part of the field name (`time_to_first_token_ms`).

use serde::{Deserialize, Serialize};

/// What a column's numbers mean, which decides how they are shown to a person.
///
/// The variant names the unit of the *raw* value stored in the table; the human rendering may
/// pick a larger unit (a `Ms` value of 1234 is shown as "1.23 s").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Free text, shown as is and left-aligned.
    Text,
    /// A duration in milliseconds ("45.6 ms", "1.23 s").
    Ms,
    /// A duration in seconds ("1.23 s", "45.6 ms", "2.5 min").
    Seconds,
    /// A size in bytes, shown with binary prefixes ("79.2 GiB").
    Bytes,
    /// A size in GiB (2^30 bytes), shown with binary prefixes ("79.2 GiB", "512 MiB").
    Gib,
    /// A throughput in tokens per second ("12.3k tok/s").
    TokS,
    /// An amount of US dollars ("$2.50").
    Usd,
    /// A price in US dollars per hour ("$2.50/h").
    UsdPerHour,
    /// A price in US dollars per million tokens ("$0.45/Mtok").
    UsdPerMillionTokens,
    /// A count of things (GPUs, requests), shown with thousands separators ("1,024").
    Count,
    /// A fraction where 1.0 means 100% ("87.3%").
    Ratio,
    /// A percentage where 100.0 means 100% ("87.3%").
    Percent,
    /// A dimensionless number, shown with three significant digits ("0.123", "12.3k").
    Number,
}

impl ValueKind {
    /// Whether values of this kind are numbers (right-aligned, raw in machine formats).
    pub fn is_numeric(self) -> bool {
        !matches!(self, ValueKind::Text)
    }
}

/// Formats a raw number of the given kind for a person. Non-finite values show as "n/a".
pub fn format_human(value: f64, kind: ValueKind) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    match kind {
        ValueKind::Text | ValueKind::Number => format_compact(value),
        ValueKind::Ms => format_duration_seconds(value / 1000.0),
        ValueKind::Seconds => format_duration_seconds(value),
        ValueKind::Bytes => format_bytes(value),
        ValueKind::Gib => format_bytes(value * GIB),
        ValueKind::TokS => format!("{} tok/s", format_compact(value)),
        ValueKind::Usd => format_usd(value),
        ValueKind::UsdPerHour => format!("{}/h", format_usd(value)),
        ValueKind::UsdPerMillionTokens => format!("{}/Mtok", format_usd(value)),
        ValueKind::Count => format_count(value),
        ValueKind::Ratio => format_percent(value * 100.0),
        ValueKind::Percent => format_percent(value),
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Formats `value` with three significant digits, without a trailing ".0" and without
/// scientific notation for ordinary magnitudes ("1.23", "45.6", "123", "0.0123").
pub fn format_significant(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 12) as usize;
    let text = format!("{value:.decimals$}");
    // Rounding can carry into a new digit (9.996 -> "10.00"); trim trailing zeros either way.
    trim_fraction(&text)
}

fn trim_fraction(text: &str) -> String {
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".to_string()
        } else {
            trimmed.to_string()
        }
    } else {
        text.to_string()
    }
}

/// Formats a number with three significant digits and an SI suffix for thousands and up
/// ("950", "12.3k", "1.5M", "2G"). Used for throughputs and plot tick labels.
pub fn format_compact(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e12 {
        (value / 1e12, "T")
    } else if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format_significant(scaled);
    // 999.6k rounds to "1000k"; promote it to the next suffix.
    if suffix != "T" && text.trim_start_matches('-') == "1000" {
        let next = match suffix {
            "" => "k",
            "k" => "M",
            "M" => "G",
            _ => "T",
        };
        let sign = if value < 0.0 { "-" } else { "" };
        return format!("{sign}1{next}");
    }
    format!("{text}{suffix}")
}

fn format_duration_seconds(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs == 0.0 {
        "0 ms".to_string()
    } else if abs < 1e-3 {
        format!("{} µs", format_significant(seconds * 1e6))
    } else if abs < 0.9995 {
        format!("{} ms", format_significant(seconds * 1e3))
    } else if abs < 59.95 {
        format!("{} s", format_significant(seconds))
    } else if abs < 3600.0 * 0.9995 {
        format!("{} min", format_significant(seconds / 60.0))
    } else {
        format!("{} h", format_significant(seconds / 3600.0))
    }
}

fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut scaled = bytes;
    let mut unit = 0;
    // Switch units at 1000 rather than 1024 so a value never shows as "1010 MiB".
    while scaled.abs() >= 999.5 && unit + 1 < UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", format_count(bytes))
    } else {
        format!("{} {}", format_significant(scaled), UNITS[unit])
    }
}

fn format_usd(dollars: f64) -> String {
    let sign = if dollars < 0.0 { "-" } else { "" };
    let abs = dollars.abs();
    let body = if abs >= 1000.0 {
        group_thousands(&format!("{abs:.0}"))
    } else if abs >= 0.995 || abs == 0.0 {
        format!("{abs:.2}")
    } else {
        // Small prices keep three significant digits but at least two decimals: $0.50, $0.0123.
        let sig = format_significant(abs);
        let decimals = sig.split('.').nth(1).map_or(0, str::len);
        if decimals < 2 {
            format!("{abs:.2}")
        } else {
            sig
        }
    };
    format!("{sign}${body}")
}

fn format_count(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        let text = format!("{value:.0}");
        let (sign, digits) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        format!("{sign}{}", group_thousands(digits))
    } else {
        format_significant(value)
    }
}

fn format_percent(percent: f64) -> String {
    let abs = percent.abs();
    let text = if abs >= 99.95 || abs == 0.0 {
        format!("{percent:.0}")
    } else if abs >= 0.1 {
        format!("{percent:.1}")
    } else {
        format_significant(percent)
    };
    format!("{text}%")
}

/// Inserts a comma every three digits of an unsigned integer string ("1234567" -> "1,234,567").
fn group_thousands(digits: &str) -> String {
    let len = digits.chars().count();
    let mut out = String::with_capacity(len + len / 3);
    // A countdown rather than `index % 3`, which clippy would rewrite to `is_multiple_of`
    // (Rust 1.87, newer than the workspace's minimum).
    let mut left_in_group = match len % 3 {
        0 => 3,
        partial => partial,
    };
    for ch in digits.chars() {
        if left_in_group == 0 {
            out.push(',');
            left_in_group = 3;
        }
        out.push(ch);
        left_in_group -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(format_significant(1.234), "1.23");
        assert_eq!(format_significant(45.67), "45.7");
        assert_eq!(format_significant(123.4), "123");
        assert_eq!(format_significant(0.01234), "0.0123");
        assert_eq!(format_significant(2.0), "2");
        assert_eq!(format_significant(0.0), "0");
        assert_eq!(format_significant(-1.5), "-1.5");
        assert_eq!(format_significant(9.996), "10");
        assert_eq!(format_significant(f64::NAN), "n/a");
    }

    #[test]
    fn durations() {
        assert_eq!(format_human(1234.0, ValueKind::Ms), "1.23 s");
        assert_eq!(format_human(45.6, ValueKind::Ms), "45.6 ms");
        assert_eq!(format_human(0.5, ValueKind::Ms), "500 µs");
        assert_eq!(format_human(0.0, ValueKind::Ms), "0 ms");
        assert_eq!(format_human(999.99, ValueKind::Ms), "1 s");
        assert_eq!(format_human(1.23, ValueKind::Seconds), "1.23 s");
        assert_eq!(format_human(0.0456, ValueKind::Seconds), "45.6 ms");
        assert_eq!(format_human(150.0, ValueKind::Seconds), "2.5 min");
        assert_eq!(format_human(7200.0, ValueKind::Seconds), "2 h");
    }

    #[test]
    fn sizes() {
        assert_eq!(format_human(79.2, ValueKind::Gib), "79.2 GiB");
        assert_eq!(format_human(0.5, ValueKind::Gib), "512 MiB");
        assert_eq!(format_human(2048.0, ValueKind::Gib), "2 TiB");
        assert_eq!(format_human(512.0, ValueKind::Bytes), "512 B");
        assert_eq!(format_human(1536.0, ValueKind::Bytes), "1.5 KiB");
        assert_eq!(format_human(80.0 * GIB, ValueKind::Bytes), "80 GiB");
        assert_eq!(
            format_human(1000.0 * 1024.0 * 1024.0, ValueKind::Bytes),
            "0.977 GiB"
        );
    }

    #[test]
    fn throughput_and_money() {
        assert_eq!(format_human(12_345.0, ValueKind::TokS), "12.3k tok/s");
        assert_eq!(format_human(456.0, ValueKind::TokS), "456 tok/s");
        assert_eq!(format_human(45.61, ValueKind::TokS), "45.6 tok/s");
        assert_eq!(format_human(1_500_000.0, ValueKind::TokS), "1.5M tok/s");
        assert_eq!(format_human(999_700.0, ValueKind::TokS), "1M tok/s");
        assert_eq!(format_human(2.5, ValueKind::UsdPerHour), "$2.50/h");
        assert_eq!(format_human(12_345.6, ValueKind::Usd), "$12,346");
        assert_eq!(format_human(0.5, ValueKind::Usd), "$0.50");
        assert_eq!(format_human(0.01234, ValueKind::Usd), "$0.0123");
        assert_eq!(format_human(0.0, ValueKind::Usd), "$0.00");
        assert_eq!(format_human(-3.0, ValueKind::Usd), "-$3.00");
        assert_eq!(
            format_human(0.45, ValueKind::UsdPerMillionTokens),
            "$0.45/Mtok"
        );
    }

    #[test]
    fn counts_and_ratios() {
        assert_eq!(format_human(8.0, ValueKind::Count), "8");
        assert_eq!(format_human(1_234_567.0, ValueKind::Count), "1,234,567");
        assert_eq!(format_human(-1024.0, ValueKind::Count), "-1,024");
        assert_eq!(format_human(2.5, ValueKind::Count), "2.5");
        assert_eq!(format_human(0.873, ValueKind::Ratio), "87.3%");
        assert_eq!(format_human(1.0, ValueKind::Ratio), "100%");
        assert_eq!(format_human(87.3, ValueKind::Percent), "87.3%");
        assert_eq!(format_human(12_300.0, ValueKind::Number), "12.3k");
        assert_eq!(format_human(f64::INFINITY, ValueKind::Ms), "n/a");
    }
}
