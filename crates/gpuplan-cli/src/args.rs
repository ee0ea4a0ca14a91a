//! Command-line definitions (clap derive). Every flag can also be set through a `GPUPLAN_*`
//! environment variable. Nothing here does work: [`crate::run`] turns these raw flags into a
//! [`crate::Context`] and dispatches to one function per command in [`crate::commands`].
//!
//! Adding a command: an `XxxArgs` struct here, a variant of [`Command`], a module in
//! `commands/`, and one match arm in [`crate::run`].

use std::path::PathBuf;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use gpuplan_core::quant::{KvDtypeChoice, WeightFormat};

use crate::render::OutputFormat;

const MAIN_EXAMPLES: &str = "\
Examples:
  gpuplan models
  gpuplan model meta-llama/Llama-3.1-70B
  gpuplan model deepseek-ai/DeepSeek-V3 --kv-dtype fp8 --json
  gpuplan model ./my-model/config.json
  gpuplan gpus --format markdown
  gpuplan completions bash > ~/.local/share/bash-completion/completions/gpuplan

Defaults (GPU list, prices, engine, catalog file) can be set in ~/.config/gpuplan/config.toml
(or the file named by GPUPLAN_CONFIG). Exit codes: 0 success, 1 no configuration satisfies the
request, 2 usage or input error.";

/// gpuplan: which GPUs, how many, and how to split an LLM across them to meet latency targets at
/// the lowest cost.
#[derive(Debug, Parser)]
#[command(name = "gpuplan", version, about, max_term_width = 100, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts (before or after the command name).
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Output format [default: table].
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        env = "GPUPLAN_FORMAT"
    )]
    pub format: Option<OutputFormat>,

    /// Shorthand for `--format json`.
    #[arg(long, global = true, env = "GPUPLAN_JSON", value_parser = FalseyValueParser::new())]
    pub json: bool,

    /// GPU / price overrides: a TOML file of `[[gpu]]` and `[[price]]` entries.
    #[arg(long, global = true, value_name = "FILE", env = "GPUPLAN_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// Never use the network: local paths, the embedded catalog and the Hugging Face cache only.
    #[arg(long, global = true, env = "GPUPLAN_OFFLINE", value_parser = FalseyValueParser::new())]
    pub offline: bool,

    /// Hugging Face branch, tag or commit of the model [default: main].
    #[arg(long, global = true, value_name = "REV", env = "GPUPLAN_REVISION")]
    pub revision: Option<String>,

    /// User config file [default: ~/.config/gpuplan/config.toml].
    #[arg(long, global = true, value_name = "FILE", env = "GPUPLAN_CONFIG")]
    pub config: Option<PathBuf>,
}

impl GlobalArgs {
    /// The chosen output format: `--json` wins, then `--format`, then the table.
    pub fn output_format(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.format.unwrap_or_default()
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the models of the embedded catalog.
    #[command(after_help = MODELS_EXAMPLES)]
    Models(ModelsArgs),
    /// Show a model's architecture: parameters, attention, KV cache, weight bytes.
    #[command(after_help = MODEL_EXAMPLES)]
    Model(ModelArgs),
    /// List the GPUs of the catalog (with your overrides), or show the named ones.
    #[command(after_help = GPUS_EXAMPLES)]
    Gpus(GpusArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

const MODELS_EXAMPLES: &str = "\
Examples:
  gpuplan models
  gpuplan models --format csv > models.csv
  gpuplan models --json";

/// Arguments of `gpuplan models`.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {}

const MODEL_EXAMPLES: &str = "\
Examples:
  gpuplan model meta-llama/Llama-3.1-70B
  gpuplan model Llama-3.1-8B --weight-quant fp8 --kv-dtype fp8
  gpuplan model deepseek-ai/DeepSeek-V3 --json
  gpuplan model Qwen/Qwen3-8B --revision main --json      # Hugging Face cache or Hub
  gpuplan model ./checkpoints/my-model                    # a directory holding config.json
  gpuplan model ./config.json --format markdown

MODEL is resolved in this order: a local path (config.json or a directory holding one), the
embedded catalog (see `gpuplan models`), the Hugging Face cache, the Hugging Face Hub (HF_ENDPOINT,
HF_TOKEN and HF_HOME are honoured; not with --offline).";

/// Arguments of `gpuplan model`.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Catalog id, Hugging Face repo id (org/name), or path to a config.json or its directory.
    #[arg(value_name = "MODEL", env = "GPUPLAN_MODEL")]
    pub model: String,

    /// Store the weights in this format instead of the checkpoint's
    /// (bf16, fp8, fp8_block, int8, int4, nvfp4, mxfp4).
    #[arg(long, value_name = "Q", env = "GPUPLAN_WEIGHT_QUANT")]
    pub weight_quant: Option<WeightFormat>,

    /// KV-cache dtype (auto: the model's native dtype).
    #[arg(
        long,
        value_name = "D",
        default_value = "auto",
        env = "GPUPLAN_KV_DTYPE"
    )]
    pub kv_dtype: KvDtypeChoice,
}

const GPUS_EXAMPLES: &str = "\
Examples:
  gpuplan gpus
  gpuplan gpus h100 b200 mi300x
  gpuplan gpus --catalog my-prices.toml --format markdown
  gpuplan gpus --json

GPU names match catalog ids, names and aliases, ignoring case and separators (\"H100 SXM\",
\"h100_sxm\" and \"NVIDIA H100 80GB HBM3\" are the same GPU).";

/// Arguments of `gpuplan gpus`.
#[derive(Debug, Clone, Args)]
pub struct GpusArgs {
    /// Show only these GPUs (ids, names or aliases); default: every GPU.
    #[arg(value_name = "GPU", env = "GPUPLAN_GPUS", value_delimiter = ',')]
    pub gpus: Vec<String>,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  gpuplan completions bash > ~/.local/share/bash-completion/completions/gpuplan
  gpuplan completions zsh > ~/.zfunc/_gpuplan
  gpuplan completions fish > ~/.config/fish/completions/gpuplan.fish";

/// Arguments of `gpuplan completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_wins_over_format() {
        let cli = Cli::try_parse_from(["gpuplan", "models", "--json"]).expect("parse");
        assert_eq!(cli.global.output_format(), OutputFormat::Json);
        let cli = Cli::try_parse_from(["gpuplan", "--format", "csv", "gpus"]).expect("parse");
        assert_eq!(cli.global.output_format(), OutputFormat::Csv);
    }
}
