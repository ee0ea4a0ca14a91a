//! Renders the HTML report in headless Chromium and checks what the browser built: the ranked
//! table and the three plots are in the DOM, the page's self-check script ran
//! (`data-ready="1"`), and the page logged nothing to the console.
//!
//! Needs Debian's `chromium` package (`apt-get install chromium`); without it these tests are
//! skipped with a notice line, unless `CI` is set (then they fail). `GPUPLAN_CHROMIUM` points at
//! another binary; `GPUPLAN_SKIP_BROWSER_TESTS=1` skips them even where Chromium is installed.
//! Set `GPUPLAN_BROWSER_REPORT_COPY=/path/report.html` to keep a copy of the generated page.

// The browser helper prints its skip notice.
#[allow(clippy::print_stderr)]
mod chromium;

use chromium::{chromium, is_ci, locate, run_chromium, BrowserRun, Lookup};
use std::path::Path;
use std::process::Command;

use gpuplan_cli::render::{
    html_report, BarCategory, Cell, ChartPanel, Column, LineChart, LineSeries, ParetoPlot,
    PlotPoint, Report, StackedBar, StackedBars, Table, ValueKind,
};

/// Loads a local page in headless Chromium and dumps its DOM.
fn load(browser: &Path, page: &Path) -> BrowserRun {
    run_chromium(
        browser,
        &format!("file://{}", page.display()),
        &["--dump-dom".to_string()],
    )
}

const GPUS: [(&str, f64, f64); 3] = [
    ("H100 SXM 80GB", 1.0, 79.2),
    ("A100 SXM 80GB", 0.55, 79.2),
    ("L40S 48GB", 0.35, 44.4),
];

/// A report shaped like a real plan: many candidates over three GPU types.
fn synthetic_report() -> Report {
    let mut points = Vec::new();
    for (gpu, speed, _) in GPUS {
        for tp in [1u32, 2, 4, 8] {
            for batch in [1u32, 4, 16, 64, 256] {
                let per_user =
                    120.0 * speed * f64::from(tp).sqrt() / (1.0 + f64::from(batch) / 64.0);
                let per_gpu = per_user * f64::from(batch) / f64::from(tp);
                points.push(PlotPoint {
                    x: per_user,
                    y: per_gpu,
                    series: gpu.to_string(),
                    label: format!("{gpu} TP{tp} batch {batch}"),
                    on_frontier: false,
                    chosen: false,
                });
            }
        }
    }
    // Flag the Pareto frontier (maximise both axes) and choose the best throughput above the SLO.
    let flags: Vec<bool> = points
        .iter()
        .map(|p| {
            !points
                .iter()
                .any(|q| q.x >= p.x && q.y >= p.y && (q.x > p.x || q.y > p.y))
        })
        .collect();
    for (point, on_frontier) in points.iter_mut().zip(flags) {
        point.on_frontier = on_frontier;
    }
    let min_per_user = 1000.0 / 50.0;
    if let Some(best) = points
        .iter_mut()
        .filter(|p| p.on_frontier && p.x >= min_per_user)
        .max_by(|a, b| a.y.total_cmp(&b.y))
    {
        best.chosen = true;
    }

    let mut ranked = Table::new(vec![
        Column::new("rank", "#", ValueKind::Count).priority(255),
        Column::new("gpu", "GPU", ValueKind::Text).priority(200),
        Column::new("gpu_count", "GPUs", ValueKind::Count).priority(180),
        Column::new("time_to_first_token_ms", "TTFT p50", ValueKind::Ms),
        Column::new("inter_token_latency_ms", "ITL p50", ValueKind::Ms),
        Column::new("throughput_per_gpu_tok_s", "tok/s/GPU", ValueKind::TokS),
        Column::new("memory_per_gpu_gib", "Mem/GPU", ValueKind::Gib),
        Column::new("cost_usd_per_hour", "Cost", ValueKind::UsdPerHour),
    ])
    .with_title("Ranked configurations");
    let rows: [(&str, u32, f64, f64, f64, f64, f64); 3] = [
        ("H100 SXM 80GB <TP4>", 4, 182.0, 21.5, 3120.0, 71.3, 11.96),
        ("A100 SXM 80GB & TP8", 8, 240.0, 33.0, 1480.0, 58.9, 14.32),
        ("L40S 48GB TP8", 8, 410.0, 46.0, 820.0, 41.0, 9.12),
    ];
    for (rank, (gpu, count, ttft, itl, tok_s, mem, cost)) in rows.iter().enumerate() {
        ranked.push_row(vec![
            (rank + 1).into(),
            (*gpu).into(),
            (*count).into(),
            (*ttft).into(),
            (*itl).into(),
            (*tok_s).into(),
            (*mem).into(),
            (*cost).into(),
        ]);
    }
    ranked.push_row(vec![
        4.into(),
        "H100 SXM 80GB TP1".into(),
        1.into(),
        Cell::Text("OOM".into()),
        Cell::Missing,
        Cell::Missing,
        93.0.into(),
        2.99.into(),
    ]);
    ranked.push_note("Latencies are p50 estimates at the target load.");

    let concurrency: Vec<f64> = (0..10).map(|i| f64::from(1u32 << i)).collect();
    let curve = |name: &str, f: &dyn Fn(f64) -> f64| LineSeries {
        name: name.to_string(),
        points: concurrency.iter().map(|&c| (c, f(c))).collect(),
    };
    let latency = LineChart {
        title: "Latency and throughput vs concurrency".into(),
        x_label: "Concurrent requests".into(),
        log_x: true,
        panels: vec![
            ChartPanel {
                y_label: "TTFT (ms)".into(),
                series: vec![
                    curve("H100 TP4", &|c| 150.0 + 2.5 * c),
                    curve("A100 TP8", &|c| 210.0 + 3.5 * c),
                ],
                hlines: vec![(1000.0, "TTFT SLO 1 s".into())],
                log_y: false,
            },
            ChartPanel {
                y_label: "ITL (ms)".into(),
                series: vec![
                    curve("H100 TP4", &|c| 18.0 + c / 12.0),
                    curve("A100 TP8", &|c| 28.0 + c / 9.0),
                ],
                hlines: vec![(50.0, "ITL SLO 50 ms".into())],
                log_y: false,
            },
            ChartPanel {
                y_label: "Throughput (tok/s)".into(),
                series: vec![
                    curve("H100 TP4", &|c| 4.0 * 1000.0 * c / (18.0 + c / 12.0) / 4.0),
                    curve("A100 TP8", &|c| 8.0 * 1000.0 * c / (28.0 + c / 9.0) / 8.0),
                ],
                hlines: Vec::new(),
                log_y: false,
            },
        ],
    };

    let memory = StackedBars {
        title: "Memory per GPU, top choices".into(),
        x_label: "Memory per GPU (GiB)".into(),
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
        bars: GPUS
            .iter()
            .map(|(gpu, _, capacity)| {
                let weights = 140.0 / 8.0;
                let used = weights + 2.1 + 3.4;
                let kv = (capacity * 0.9 - used).max(0.0);
                StackedBar {
                    label: format!("{gpu} · TP8"),
                    values: vec![weights, 2.1, 3.4, kv, capacity - used - kv],
                    capacity: Some(*capacity),
                }
            })
            .collect(),
    };

    Report {
        title: "gpuplan: meta-llama/Llama-3.1-70B-Instruct".into(),
        subtitle: Some("Synthetic data for the browser test".into()),
        inputs: vec![
            ("Model".into(), "meta-llama/Llama-3.1-70B-Instruct".into()),
            ("Quantization".into(), "fp8".into()),
            ("SLO".into(), "TTFT ≤ 1 s, ITL ≤ 50 ms".into()),
            ("Traffic".into(), "8 req/s, 2k in / 256 out tokens".into()),
        ],
        ranked,
        pareto: Some(ParetoPlot {
            title: "Throughput per GPU vs speed per user".into(),
            x_label: "Tokens/s per user".into(),
            y_label: "Tokens/s per GPU".into(),
            points,
            vlines: vec![(min_per_user, "ITL ≤ 50 ms → ≥ 20 tok/s/user".into())],
            hlines: Vec::new(),
            log_x: false,
            log_y: false,
        }),
        memory: Some(memory),
        latency: Some(latency),
        launch_command: Some(
            "vllm serve meta-llama/Llama-3.1-70B-Instruct \\\n  --tensor-parallel-size 4 --quantization fp8 --max-model-len 8192".into(),
        ),
        notes: vec!["Prices are on-demand list prices <as of the catalog date>.".into()],
    }
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let report = synthetic_report();
    let html = html_report(&report);
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).expect("write report");
    if let Ok(copy) = std::env::var("GPUPLAN_BROWSER_REPORT_COPY") {
        std::fs::write(&copy, &html).expect("copy report");
    }

    let run = load(&browser, &page);
    let console = run.console_lines();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );
    let dom = &run.dom;
    assert!(
        dom.contains(r#"data-ready="1""#),
        "the self-check script did not run or found parts missing:\n{dom}"
    );

    assert!(
        dom.contains(r#"<table id="ranked">"#),
        "ranked table missing"
    );
    let body_rows = dom
        .split("<tbody>")
        .nth(1)
        .and_then(|rest| rest.split("</tbody>").next())
        .unwrap_or("");
    assert_eq!(
        body_rows.matches("<tr>").count(),
        report.ranked.rows.len(),
        "one table row per configuration"
    );
    for text in [
        "H100 SXM 80GB &lt;TP4&gt;",
        "A100 SXM 80GB &amp; TP8",
        "182 ms",
        "21.5 ms",
        "3.12k tok/s",
        "71.3 GiB",
        "$11.96/h",
        "OOM",
    ] {
        assert!(body_rows.contains(text), "table cell {text:?} missing");
    }

    for id in ["pareto", "memory", "latency"] {
        assert!(
            dom.contains(&format!(r#"<svg id="{id}""#)),
            "svg#{id} missing"
        );
    }
    let pareto = report.pareto.as_ref().map_or(0, |plot| plot.points.len());
    assert!(
        dom.matches("<circle").count() >= pareto,
        "every candidate is drawn"
    );
    assert!(
        dom.contains(r#"class="frontier""#) && dom.contains(r#"class="chosen""#),
        "frontier and choice drawn"
    );
    assert_eq!(
        dom.matches(r#"class="segment""#).count(),
        3 * 5,
        "memory segments drawn"
    );
    assert_eq!(
        dom.matches(r#"class="panel""#).count(),
        3,
        "latency panels drawn"
    );
    assert!(
        dom.contains("--tensor-parallel-size 4"),
        "launch command shown"
    );
    assert!(!dom.contains("NaN"), "no NaN anywhere in the page");
}

/// Guards the console check above: a page that logs and throws must be caught, so a change in
/// Chromium's log format cannot make the main test pass vacuously.
#[test]
fn console_errors_are_detected() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>broken</p><script>console.error(\"boom\"); notDefined();</script></body></html>",
    )
    .expect("write page");
    let run = load(&browser, &page);
    let console = run.console_lines();
    assert!(
        console.iter().any(|line| line.contains("boom")),
        "console.error not seen in:\n{}",
        run.stderr
    );
    assert!(
        console.iter().any(|line| line.contains("Uncaught")),
        "exception not seen in:\n{}",
        run.stderr
    );
}

/// The report `gpuplan recommend --report` writes for a real request opens in the browser with
/// its table, Pareto plot, memory bars and latency curve, and logs nothing.
#[test]
fn recommend_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = dir.path().join("report.html");
    let plot = dir.path().join("pareto.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_gpuplan"))
        .args([
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--input-len",
            "1024",
            "--output-len",
            "256",
            "--concurrency",
            "16",
            "--max-itl-ms",
            "50",
            "--gpus",
            "H100,L40S,A100",
            "--emit",
            "vllm",
        ])
        .arg("--report")
        .arg(&page)
        .arg("--plot")
        .arg(&plot)
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .env_remove("GPUPLAN_CONFIG")
        .env_remove("GPUPLAN_CATALOG")
        .output()
        .expect("run gpuplan");
    assert!(
        out.status.success(),
        "gpuplan recommend failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    assert!(
        svg.starts_with("<svg") || svg.contains("<svg"),
        "not an SVG"
    );
    let run = load(&browser, &page);
    let console = run.console_lines();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );
    let dom = &run.dom;
    assert!(
        dom.contains(r#"data-ready="1""#),
        "self-check failed:\n{dom}"
    );
    assert!(
        dom.contains(r#"<table id="ranked">"#),
        "ranked table missing"
    );
    for id in ["pareto", "memory", "latency"] {
        assert!(dom.contains(&format!(r#"id="{id}""#)), "{id} plot missing");
    }
    assert!(dom.contains("vllm serve"), "launch command missing");
    assert!(!dom.contains("NaN"), "NaN in the page");
}

/// The environment of [`locate`] with Chromium at a path that does not exist, `CI` as given.
fn without_chromium(missing: &Path, ci: Option<&str>) -> Lookup {
    let missing = missing.display().to_string();
    let ci = ci.map(str::to_string);
    locate(&move |name: &str| match name {
        "GPUPLAN_CHROMIUM" => Some(missing.clone()),
        "CI" => ci.clone(),
        _ => None,
    })
}

#[test]
fn without_chromium_the_browser_tests_skip_unless_ci() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("no-chromium-here");
    match without_chromium(&missing, None) {
        Lookup::Skip(why) => {
            assert!(why.contains("no Chromium found"), "{why}");
            assert!(why.contains("apt-get install chromium"), "{why}");
        }
        other => panic!("expected a skip, got {other:?}"),
    }
    assert!(matches!(
        without_chromium(&missing, Some("false")),
        Lookup::Skip(_)
    ));
    assert!(matches!(
        without_chromium(&missing, Some("")),
        Lookup::Skip(_)
    ));
    match without_chromium(&missing, Some("true")) {
        Lookup::Fail(message) => assert!(message.contains("CI is set"), "{message}"),
        other => panic!("expected a failure in CI, got {other:?}"),
    }
    // An empty PATH finds nothing either; a file named chromium on PATH is found.
    let no_path = locate(&|name: &str| (name == "PATH").then(|| dir.path().display().to_string()));
    assert!(matches!(no_path, Lookup::Skip(_)), "{no_path:?}");
    let fake = dir.path().join("chromium");
    std::fs::write(&fake, "").expect("write a stand-in binary");
    let on_path = locate(&|name: &str| (name == "PATH").then(|| dir.path().display().to_string()));
    assert_eq!(on_path, Lookup::Found(fake));
    assert!(is_ci(Some("1")) && !is_ci(Some("0")) && !is_ci(None));
}

/// End to end: this test binary, run again for one browser test with Chromium pointed at a path
/// that does not exist, passes with one notice line naming the test, and fails when CI is set.
#[test]
fn a_browser_test_without_chromium_passes_with_a_notice() {
    if std::env::var_os("GPUPLAN_BROWSER_SKIP_CHILD").is_some() {
        return; // the child run below must not recurse
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("no-chromium-here");
    let run = |ci: Option<&str>| {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
        cmd.args(["--exact", "console_errors_are_detected", "--test-threads=1"])
            .env("GPUPLAN_CHROMIUM", &missing)
            .env("GPUPLAN_BROWSER_SKIP_CHILD", "1")
            .env_remove("GPUPLAN_SKIP_BROWSER_TESTS")
            .env_remove("CI");
        if let Some(ci) = ci {
            cmd.env("CI", ci);
        }
        cmd.output().expect("run the test binary")
    };
    let skipped = run(None);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    let notices: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("notice:"))
        .collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(
        notices[0].contains("console_errors_are_detected")
            && notices[0].contains("no Chromium found"),
        "{stderr}"
    );
    let in_ci = run(Some("true"));
    assert!(
        !in_ci.status.success(),
        "with CI set a missing Chromium must fail the test"
    );
}
