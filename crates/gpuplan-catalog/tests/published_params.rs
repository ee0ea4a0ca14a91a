//! Every model in `published_params.csv` (copied from shared/reference/models/) has its total
//! (and, for MoE, active) parameter count within 0.5% of the published figure.
//!
//! A published figure is rounded ("37B"), so the check allows the rounding of its last digit
//! plus 0.5%. Conventions the model cards use are followed where the csv names them: some cards'
//! "active" leaves out the input embedding (gpt-oss, DeepSeek-V2-Lite); the Llama 4 Scout card
//! counts its ~1.2B vision tower, which the trimmed config does not describe.

use gpuplan_catalog::find_model;

/// The published figure of a cell (in billions) and the half-unit of its last digit.
///
/// Cells read like "8.03B", "406B (405.85B)", "2.7B (2.78B exact)", "7.61B (non-embedding
/// 6.53B)" or "671B main + 14B MTP = 685B on HF": the most precise number wins, ignoring
/// non-embedding figures and what follows an "=" or "+" (MTP and on-Hub totals).
fn published(cell: &str) -> Option<(f64, f64)> {
    let head = cell.split(['=', '+']).next().unwrap_or(cell);
    let mut best: Option<(f64, usize)> = None;
    let mut rest = head;
    let mut offset = 0;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        let num = &tail[..end];
        let before = &head[..offset + start];
        let after = &tail[end..];
        let skip = before.ends_with("non-embedding ") || after.starts_with("B in model card");
        if let (false, Ok(v)) = (skip, num.parse::<f64>()) {
            let decimals = num.split('.').nth(1).map_or(0, str::len);
            if best.is_none_or(|(_, d)| decimals > d) {
                best = Some((v, decimals));
            }
        }
        offset += start + end;
        rest = &tail[end..];
    }
    best.map(|(v, d)| (v, 0.5 * 10f64.powi(-(d as i32))))
}

fn within(actual_b: f64, (value, half_unit): (f64, f64)) -> bool {
    let lo = (value - half_unit) * 0.995;
    let hi = (value + half_unit) * 1.005;
    (lo..=hi).contains(&actual_b)
}

#[test]
fn parameter_counts_match_published_figures() {
    let csv_text = include_str!("../data/models/published_params.csv");
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let mut checked = 0;
    let mut failures = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("csv row");
        let (id, config, total_cell, active_cell) = (&rec[0], &rec[1], &rec[2], &rec[3]);
        if config.starts_with('(') {
            continue; // "(not collected)": no config to check
        }
        let stem = config
            .trim_start_matches("approx/")
            .trim_end_matches(".json")
            .trim_end_matches(".APPROX");
        let model = find_model(stem).unwrap_or_else(|| panic!("{id}: {stem} not in catalog"));
        let arch = model.architecture().expect("parses");
        let p = arch.params();
        let mut total_b = p.total as f64 / 1e9;
        if id.contains("Llama-4-Scout") {
            // The card's 109B includes the ~1.2B vision tower (see the csv notes).
            total_b += 1.2;
        }
        let want = published(total_cell).expect("published total");
        if !within(total_b, want) {
            failures.push(format!(
                "{id}: total {total_b:.3}B vs published {total_cell}"
            ));
        }
        checked += 1;
        if let Some(want_active) = published(active_cell) {
            // The csv's analytic column says when the card's figure leaves the input embedding out.
            let excl_embedding = rec[6].contains("w/o input embedding");
            let active = if excl_embedding {
                p.active - p.embedding
            } else {
                p.active
            };
            let active_b = active as f64 / 1e9;
            if !within(active_b, want_active) {
                failures.push(format!(
                    "{id}: active {active_b:.3}B vs published {active_cell}"
                ));
            }
        }
    }
    assert!(checked >= 20, "only {checked} rows checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
