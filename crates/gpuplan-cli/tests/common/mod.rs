//! Helpers shared by the CLI integration tests: the `gpuplan` binary in an isolated environment,
//! and what a run produced (stdout, stderr, exit code) in uv's snapshot layout.

#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The binary with an environment that no developer setting can leak into: no `GPUPLAN_*` or
/// `HF_*` variables, `HOME` and `XDG_CONFIG_HOME` in an empty directory (so no user config or
/// catalog file is read), a fixed width and no colour.
pub fn gpuplan(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("gpuplan").expect("the gpuplan binary is built");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("GPUPLAN_")
            || name.starts_with("HF_")
            || name.starts_with("HUGGINGFACE")
        {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("HF_HOME", home.join("hf"))
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("TERM");
    cmd
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
}

impl Output {
    /// The output in uv's snapshot layout.
    pub fn snapshot(&self) -> String {
        format!(
            "success: {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            self.code == 0,
            self.code,
            self.stdout,
            self.stderr
        )
    }

    /// Stdout parsed as JSON (fails the test with the output when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.snapshot()))
    }

    /// Asserts the exit code, showing the whole output when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "{}", self.snapshot());
        self
    }
}

/// Runs `gpuplan ARGS` in `home` (see [`gpuplan`]).
pub fn run(home: &Path, args: &[&str]) -> Output {
    run_with_env(home, args, &[])
}

/// Runs `gpuplan ARGS` in `home` (see [`gpuplan`]), with extra environment variables.
pub fn run_with_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = gpuplan(home);
    cmd.args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let output = cmd.output().expect("run gpuplan");
    Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// A fresh temporary home directory.
pub fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
