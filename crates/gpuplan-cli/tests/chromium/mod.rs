//! Headless Chromium for the browser tests: find it (or skip with GPUPLAN_SKIP_BROWSER_TESTS=1),
//! load a page, return the DOM and the page's console output.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser is killed after this long.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary, or `None` when the test should be skipped. Panics with install
/// instructions when Chromium is missing and skipping was not asked for.
pub fn chromium() -> Option<PathBuf> {
    if std::env::var("GPUPLAN_SKIP_BROWSER_TESTS").is_ok_and(|value| value == "1") {
        eprintln!("notice: GPUPLAN_SKIP_BROWSER_TESTS=1, skipping the headless Chromium test");
        return None;
    }
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    });
    match found {
        Some(path) => Some(path),
        None => panic!(
            "the browser test needs Chromium: install it with `apt-get install chromium` \
             (Debian/Ubuntu), or set GPUPLAN_SKIP_BROWSER_TESTS=1 to skip this test"
        ),
    }
}

/// What Chromium printed for one page.
pub struct BrowserRun {
    /// The DOM after load (with `--dump-dom`).
    pub dom: String,
    /// Chromium's log, console messages included.
    pub stderr: String,
}

impl BrowserRun {
    /// Lines where the page wrote to the console or threw (Chromium logs every console
    /// message as `...:CONSOLE(line)] "message"`, an uncaught exception as "Uncaught ...").
    pub fn console_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| line.contains("CONSOLE") || line.contains("Uncaught"))
            .collect()
    }
}

/// Loads `url` in headless Chromium with `mode` (`--dump-dom` or `--screenshot=...`), giving the
/// page 20 s of virtual time for its fetches, and kills the browser after [`BROWSER_TIMEOUT`].
pub fn run_chromium(browser: &Path, url: &str, mode: &[String]) -> BrowserRun {
    let profile = tempfile::tempdir().expect("temporary Chromium profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("chromium stdout");
    let mut stderr = child.stderr.take().expect("chromium stderr");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr_reader.join().unwrap_or_default();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = stdout_reader.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed with {status}; stderr:\n{stderr}"
    );
    BrowserRun { dom, stderr }
}
