//! Headless Chromium for the browser tests: find it, load a page, return the DOM and the page's
//! console output.
//!
//! Where no Chromium is found, a browser test is skipped with one notice line on stderr (written
//! past the test harness's output capture, so `cargo test` shows it), unless `CI` is set: then it
//! fails, so CI never skips them silently. `GPUPLAN_CHROMIUM=/path/to/chromium` picks the binary
//! (a path that is not a file counts as no Chromium found); `GPUPLAN_SKIP_BROWSER_TESTS=1` skips
//! even where one is installed.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser is killed after this long.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// Binary names looked up on `PATH`.
pub const CHROMIUM_NAMES: [&str; 2] = ["chromium", "chromium-browser"];

/// What the lookup decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Run the test with this binary.
    Found(PathBuf),
    /// Skip the test, for this reason.
    Skip(String),
    /// Fail the test (CI without a browser), with this message.
    Fail(String),
}

/// Whether a `CI` value means "running in CI" (set, not empty, not `false` or `0`).
pub fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Decides where Chromium is from the environment (`env` reads one variable).
pub fn locate(env: &dyn Fn(&str) -> Option<String>) -> Lookup {
    if env("GPUPLAN_SKIP_BROWSER_TESTS").as_deref() == Some("1") {
        return Lookup::Skip("GPUPLAN_SKIP_BROWSER_TESTS=1".to_string());
    }
    let (found, looked) = match env("GPUPLAN_CHROMIUM").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            let looked = format!("GPUPLAN_CHROMIUM={}", path.display());
            (path.is_file().then_some(path), looked)
        }
        None => {
            let found = env("PATH").and_then(|paths| {
                CHROMIUM_NAMES.iter().find_map(|name| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join(name))
                        .find(|candidate| candidate.is_file())
                })
            });
            (found, format!("{} on PATH", CHROMIUM_NAMES.join(" or ")))
        }
    };
    if let Some(path) = found {
        return Lookup::Found(path);
    }
    let why = format!(
        "no Chromium found ({looked}); install it with `apt-get install chromium` (Debian/Ubuntu) \
         or point GPUPLAN_CHROMIUM at the binary"
    );
    if is_ci(env("CI").as_deref()) {
        Lookup::Fail(format!("CI is set and the browser tests must run: {why}"))
    } else {
        Lookup::Skip(why)
    }
}

/// The Chromium binary, or `None` when the test should be skipped (after printing one notice
/// line naming the test and why). Panics when CI is set and no Chromium is found.
pub fn chromium() -> Option<PathBuf> {
    let test = std::thread::current()
        .name()
        .unwrap_or("browser test")
        .to_string();
    match locate(&|name| std::env::var(name).ok()) {
        Lookup::Found(path) => Some(path),
        Lookup::Skip(why) => {
            // Straight to the process's stderr: the harness captures `eprintln!` of passing
            // tests, and this line must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "notice: skipped browser test {test}: {why}"
            );
            None
        }
        Lookup::Fail(message) => panic!("{test}: {message}"),
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
