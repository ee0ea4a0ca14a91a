//! End to end: headless Chromium loads the `gpuplan serve` web page with its inputs in the
//! query string, the page fills the form, calls the API and renders; the test checks the DOM
//! Chromium dumps: the ranked table rows, the Pareto plot SVG, the memory breakdown and the
//! launch command are there, and the page logged nothing to the console.
//!
//! Needs Debian's `chromium` package (`apt-get install chromium`); without it these tests are
//! skipped with a notice line, unless `CI` is set (then they fail). Set
//! `GPUPLAN_UI_SCREENSHOT=/path/ui.png` to also save a screenshot of the page.

// The browser helper prints its skip notice.
#[allow(clippy::print_stderr)]
mod chromium;

use chromium::{chromium, run_chromium};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use gpuplan_cli::args::GlobalArgs;
use gpuplan_cli::serve::{serve_until, AppState};
use gpuplan_cli::Context;

/// Starts an offline server on an ephemeral port in a background thread.
fn start_server() -> SocketAddr {
    let global = GlobalArgs {
        offline: true,
        ..GlobalArgs::default()
    };
    let ctx = Context::new(&global).expect("context");
    let state = AppState::from_context(&ctx).expect("server state");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            serve_until(listener, state, std::future::pending())
                .await
                .expect("serve");
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server started")
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

#[test]
fn shared_url_fills_the_form_runs_and_renders() {
    let Some(browser) = chromium() else { return };
    let addr = start_server();
    let url = format!(
        "http://{addr}/?model=meta-llama/Llama-3.1-8B&input_len=1024&output_len=256\
         &concurrency=16&max_ttft_ms=2000&max_itl_ms=50&run=1"
    );
    let run = run_chromium(&browser, &url, &["--dump-dom".to_string()]);
    let dom = &run.dom;

    assert!(
        dom.contains("data-state=\"done\""),
        "the page did not finish planning; DOM:\n{dom}\nstderr:\n{}",
        run.stderr
    );
    // The form was filled from the query string.
    assert!(dom.contains("SLOs met"), "{dom}");
    // Ranked table rows.
    let body = between(dom, "<tbody>", "</tbody>").expect("ranked table body");
    let rows = body.matches("<tr data-index=").count();
    assert!(rows >= 1, "no ranked rows:\n{body}");
    assert!(body.contains("H100") || body.contains("GPU"), "{body}");
    // The Pareto plot.
    let plot = between(dom, "id=\"pareto\"", "</svg>").expect("pareto plot");
    assert!(plot.contains("<svg"), "{plot}");
    assert!(plot.contains("<circle"), "no points in the plot");
    // Memory breakdown and launch command of the first row.
    assert!(dom.contains("class=\"bar\""), "no memory bar");
    assert!(dom.contains("KV cache pool"), "no memory legend");
    assert!(
        dom.contains("vllm serve meta-llama/Llama-3.1-8B"),
        "no launch command"
    );
    // The share link carries the inputs.
    assert!(dom.contains("max_itl_ms=50"), "share link");
    // A private model can be pasted or uploaded as config.json.
    assert!(
        dom.contains("id=\"config\"") && dom.contains("id=\"config-file\""),
        "config.json box"
    );
    // The notes are on the page: planned as the checkpoint is, with what requantizing saves.
    assert!(
        dom.contains("planned in the checkpoint"),
        "requantization note"
    );

    let console = run.console_lines();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );

    if let Ok(path) = std::env::var("GPUPLAN_UI_SCREENSHOT") {
        run_chromium(
            &browser,
            &url,
            &[
                format!("--screenshot={path}"),
                "--window-size=1280,1400".to_string(),
                "--hide-scrollbars".to_string(),
            ],
        );
        assert!(Path::new(&path).is_file(), "no screenshot at {path}");
    }
}

#[test]
fn bad_input_shows_the_error_and_the_field() {
    let Some(browser) = chromium() else { return };
    let addr = start_server();
    let url = format!("http://{addr}/?model=Llama-3.1-8&run=1");
    let run = run_chromium(&browser, &url, &["--dump-dom".to_string()]);
    assert!(
        run.dom.contains("data-state=\"error\""),
        "DOM:\n{}",
        run.dom
    );
    let error = between(&run.dom, "id=\"error\"", "</div>").expect("error box");
    assert!(error.contains("model"), "{error}");
    assert!(
        error.contains("meta-llama/Llama-3.1-8B"),
        "no suggestion: {error}"
    );
    assert!(run.dom.contains("aria-invalid=\"true\""));
    assert!(run.console_lines().is_empty(), "{}", run.stderr);
}
