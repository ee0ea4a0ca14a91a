//! Command-line definitions (clap derive). Every flag can also be set through a `GPUPLAN_*`
//! environment variable. Nothing here does work: [`crate::run`] turns these raw flags into a
//! [`crate::Context`] and dispatches to one function per command in [`crate::commands`].
//!
//! Adding a command: an `XxxArgs` struct here, a variant of [`Command`], a module in
//! `commands/`, and one match arm in [`crate::run`].

use std::path::PathBuf;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use gpuplan::core::perf::Statistic;
use gpuplan::{AllowQuant, Dataset, EmitTarget, RequestRate};
use gpuplan_core::hardware::Vendor;
use gpuplan_core::memory::Engine;
use gpuplan_core::quant::{KvDtypeChoice, WeightFormat};
use gpuplan_core::search::{Objective, ServingMode};

use crate::render::OutputFormat;

const MAIN_EXAMPLES: &str = "\
Examples:
  gpuplan models
  gpuplan model meta-llama/Llama-3.1-70B
  gpuplan model deepseek-ai/DeepSeek-V3 --kv-dtype fp8 --json
  gpuplan model ./my-model/config.json
  gpuplan gpus --format markdown
  gpuplan memory --model meta-llama/Llama-3.1-70B --gpu H100 --tp 4
  gpuplan estimate --model meta-llama/Llama-3.1-8B --gpu H100 --input-len 1024 --output-len 256
  gpuplan recommend --model meta-llama/Llama-3.1-70B --input-len 2048 --output-len 512 \\
      --concurrency 32 --max-ttft-ms 1000 --max-itl-ms 50 --emit vllm
  gpuplan validate my-measurements.csv
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
        help_heading = "Global",
        value_enum,
        value_name = "FORMAT",
        env = "GPUPLAN_FORMAT"
    )]
    pub format: Option<OutputFormat>,

    /// Shorthand for `--format json`.
    #[arg(long, global = true, help_heading = "Global", env = "GPUPLAN_JSON", value_parser = FalseyValueParser::new())]
    pub json: bool,

    /// GPU / price overrides: a TOML file of `[[gpu]]` and `[[price]]` entries.
    #[arg(
        long,
        global = true,
        help_heading = "Global",
        value_name = "FILE",
        env = "GPUPLAN_CATALOG"
    )]
    pub catalog: Option<PathBuf>,

    /// Never use the network: local paths, the embedded catalog and the Hugging Face cache only.
    #[arg(long, global = true, help_heading = "Global", env = "GPUPLAN_OFFLINE", value_parser = FalseyValueParser::new())]
    pub offline: bool,

    /// Hugging Face branch, tag or commit of the model [default: main].
    #[arg(
        long,
        global = true,
        help_heading = "Global",
        value_name = "REV",
        env = "GPUPLAN_REVISION"
    )]
    pub revision: Option<String>,

    /// User config file [default: ~/.config/gpuplan/config.toml].
    #[arg(
        long,
        global = true,
        help_heading = "Global",
        value_name = "FILE",
        env = "GPUPLAN_CONFIG"
    )]
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
    /// Split one GPU's memory: weights, activations, buffers, KV cache; how many tokens and
    /// requests fit.
    #[command(after_help = MEMORY_EXAMPLES)]
    Memory(MemoryArgs),
    /// Estimate latency and throughput of one deployment at several concurrencies.
    #[command(after_help = ESTIMATE_EXAMPLES)]
    Estimate(EstimateArgs),
    /// Find the cheapest GPUs, GPU count and parallel layout that meet latency targets.
    #[command(after_help = RECOMMEND_EXAMPLES)]
    Recommend(Box<RecommendArgs>),
    /// Score the estimator against a CSV of measured serving runs.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Fit the engine-profile constants to a CSV of measured serving runs.
    #[command(after_help = CALIBRATE_EXAMPLES)]
    Calibrate(CalibrateArgs),
    /// Serve the planner over HTTP: a JSON API and a web page for the whole team.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

const SERVE_EXAMPLES: &str = "\
Examples:
  gpuplan serve                          # http://127.0.0.1:8080/
  gpuplan serve --addr 0.0.0.0:8080      # reachable from other machines
  gpuplan serve --offline --catalog team-prices.toml

The web page is at /, the API under /api (its OpenAPI document: /api/openapi.json). Models
outside the embedded catalog are looked up on the Hugging Face Hub (HF_TOKEN and HF_ENDPOINT
are honoured; not with --offline) and cached for the life of the server.";

/// Arguments of `gpuplan serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "GPUPLAN_ADDR"
    )]
    pub addr: std::net::SocketAddr,
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
  gpuplan gpus --vendor amd --min-memory 150

GPU names match catalog ids, names and aliases, ignoring case and separators (\"H100 SXM\",
\"h100_sxm\" and \"NVIDIA H100 80GB HBM3\" are the same GPU).";

/// Arguments of `gpuplan gpus`.
#[derive(Debug, Clone, Args)]
pub struct GpusArgs {
    /// Show only these GPUs (ids, names or aliases); default: every GPU.
    #[arg(value_name = "GPU", env = "GPUPLAN_GPUS", value_delimiter = ',')]
    pub gpus: Vec<String>,

    /// Show only this vendor's GPUs: nvidia, amd, intel or google.
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor)]
    pub vendor: Option<Vendor>,

    /// Show only GPUs with at least this much usable memory, GiB.
    #[arg(long, value_name = "GIB", value_parser = parse_positive)]
    pub min_memory: Option<f64>,
}

/// A GPU vendor, case-insensitive.
fn parse_vendor(text: &str) -> Result<Vendor, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "nvidia" => Ok(Vendor::Nvidia),
        "amd" => Ok(Vendor::Amd),
        "intel" => Ok(Vendor::Intel),
        "google" => Ok(Vendor::Google),
        other => Err(format!(
            "unknown vendor '{other}'; expected nvidia, amd, intel or google"
        )),
    }
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

/// Largest prompt, output or context length the commands accept, tokens.
pub const MAX_TOKENS: u64 = gpuplan::limits::MAX_TOKENS;

/// Largest parallel size (TP, PP, DP, EP) the commands accept.
pub const MAX_PARALLEL: u32 = gpuplan::limits::MAX_GPUS;

/// How a deployment is split over GPUs (`--tp --pp --dp --ep`); unset sizes default to 1.
#[derive(Debug, Clone, Default, Args)]
pub struct ParallelArgs {
    /// Tensor-parallel size: GPUs that split every layer [default: 1, or --num-gpus].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)))]
    pub tp: Option<u32>,
    /// Pipeline-parallel size: stages holding consecutive layers [default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)))]
    pub pp: Option<u32>,
    /// Data-parallel size: engine instances (replicas of the model) [default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)))]
    pub dp: Option<u32>,
    /// Expert-parallel size: ranks the routed experts are divided over (MoE models) [default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)))]
    pub ep: Option<u32>,
    /// GPUs of the deployment: the sizes left out fill it (tp = N / (pp x dp); with --tp, the
    /// GPUs left over are data-parallel replicas) [default: tp*pp*dp].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)))]
    pub num_gpus: Option<u32>,
}

/// A concurrency to estimate at: a number of requests in flight, or `max` (as many as the KV
/// cache and the scheduler admit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcurrencyLevel {
    /// This many requests in flight (whole deployment).
    Requests(u64),
    /// Saturation.
    Max,
}

impl ConcurrencyLevel {
    /// The estimator's form: `None` is saturation.
    pub fn requests(self) -> Option<u64> {
        match self {
            ConcurrencyLevel::Requests(n) => Some(n),
            ConcurrencyLevel::Max => None,
        }
    }
}

impl std::str::FromStr for ConcurrencyLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") {
            return Ok(ConcurrencyLevel::Max);
        }
        match s.parse::<u64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(ConcurrencyLevel::Requests(n)),
            _ => Err(format!(
                "'{s}' is not a concurrency: give a whole number from 1 to 1000000, or 'max'"
            )),
        }
    }
}

/// Parses a fraction in (0, 1] (`--gpu-memory-utilization`).
fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("'{s}' is not a fraction in (0, 1], e.g. 0.9")),
    }
}

/// Parses a positive finite number (SLO limits, request rates).
fn parse_positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number > 0")),
    }
}

/// Parses a `--random-range-ratio` in [0, 1).
fn parse_range_ratio(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a range ratio in [0, 1), e.g. 0.1")),
    }
}

/// The benchmark-style workload flags `estimate` and `recommend` share (named as in
/// `vllm bench serve`); they convert into [`gpuplan::Workload`].
#[derive(Debug, Clone, Default, Args)]
pub struct WorkloadArgs {
    /// Request lengths: random (fixed --input-len/--output-len, or spread by
    /// --random-range-ratio), sharegpt (the ShareGPT distribution with --input-len/--output-len
    /// as its means), or a CSV / JSON-lines file with input_len, output_len and optional
    /// arrival_s per request [default: random].
    #[arg(long, value_name = "random|sharegpt|FILE")]
    pub dataset: Option<Dataset>,
    /// Spread of random lengths: uniform in [(1-r) x len, (1+r) x len], as vLLM bench
    /// [default: 0].
    #[arg(long, value_name = "R", value_parser = parse_range_ratio)]
    pub random_range_ratio: Option<f64>,
    /// Requests of a finite run (the benchmark's --num-prompts) [default: 1000 when the run is
    /// finite].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub num_prompts: Option<u64>,
}

/// Parses `GPU=USD_PER_HOUR` (`--price`).
fn parse_price(s: &str) -> Result<(String, f64), String> {
    let (gpu, price) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not GPU=USD_PER_HOUR, e.g. H100=2.10"))?;
    match price.trim().trim_start_matches('$').parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && !gpu.trim().is_empty() => {
            Ok((gpu.trim().to_string(), v))
        }
        _ => Err(format!(
            "'{s}' is not GPU=USD_PER_HOUR with a price >= 0, e.g. H100=2.10"
        )),
    }
}

const MEMORY_EXAMPLES: &str = "\
Examples:
  gpuplan memory --model meta-llama/Llama-3.1-8B --gpu H100
  gpuplan memory --model meta-llama/Llama-3.1-70B --gpu H100 --tp 4 --max-model-len 32768
  gpuplan memory --model deepseek-ai/DeepSeek-V3 --gpu H200 --tp 8 --kv-dtype fp8 --json
  gpuplan memory --model Qwen/Qwen3-32B --gpu L40S --weight-quant fp8 --engine sglang

--max-model-len defaults to the model's maximum context (as vLLM does). When the model does not
fit, the output says by how much and what would fix it (exit code 0; `fits` is false in JSON).";

/// Arguments of `gpuplan memory`.
#[derive(Debug, Clone, Args)]
pub struct MemoryArgs {
    /// Catalog id, Hugging Face repo id (org/name), or path to a config.json or its directory.
    #[arg(long, value_name = "MODEL", env = "GPUPLAN_MODEL")]
    pub model: String,

    /// GPU (catalog id, name or alias) [default: the first GPU of the user config].
    #[arg(long, value_name = "GPU", env = "GPUPLAN_GPU")]
    pub gpu: Option<String>,

    /// Parallel layout.
    #[command(flatten)]
    pub parallel: ParallelArgs,

    /// Longest request (prompt + output) the engine is configured for, tokens
    /// [default: the model's maximum context].
    #[arg(long, value_name = "L", value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS))]
    pub max_model_len: Option<u64>,

    /// The engine's memory fraction in (0, 1] (vLLM gpu_memory_utilization, SGLang
    /// mem_fraction_static, TensorRT-LLM kv_cache_free_gpu_memory_fraction) [default: 0.9].
    #[arg(long, value_name = "U", value_parser = parse_fraction)]
    pub gpu_memory_utilization: Option<f64>,

    /// Store the weights in this format instead of the checkpoint's
    /// (bf16, fp8, fp8_block, int8, int4, nvfp4, mxfp4).
    #[arg(long, value_name = "Q", env = "GPUPLAN_WEIGHT_QUANT")]
    pub weight_quant: Option<WeightFormat>,

    /// KV-cache dtype (auto: the engine's default for the model).
    #[arg(
        long,
        value_name = "D",
        default_value = "auto",
        env = "GPUPLAN_KV_DTYPE"
    )]
    pub kv_dtype: KvDtypeChoice,

    /// Serving engine: vllm, sglang or trtllm [default: the user config's, else vllm].
    #[arg(long, value_name = "E", env = "GPUPLAN_ENGINE")]
    pub engine: Option<Engine>,
}

const ESTIMATE_EXAMPLES: &str = "\
Examples:
  gpuplan estimate --model meta-llama/Llama-3.1-8B --gpu H100 --input-len 1024 --output-len 256
  gpuplan estimate --model meta-llama/Llama-3.1-70B --gpu H200 --num-gpus 4 \\
      --input-len 2048 --output-len 512 --concurrency 1,16,64,max --plot llama70b.svg
  gpuplan estimate --model deepseek-ai/DeepSeek-V3 --gpu B200 --tp 8 --ep 8 \\
      --input-len 4096 --output-len 1024 --engine sglang --json
  gpuplan estimate --model Qwen/Qwen3-32B --gpu H100 --tp 2 --input-len 1024 --output-len 128 \\
      --profile my-profile.toml            # constants fitted by `gpuplan calibrate`

Concurrency is the number of requests the clients keep in flight for the whole deployment
(closed loop); `max` is saturation. With --num-gpus, the parallel sizes left out fill it
(tp = num_gpus / (pp x dp); with --tp, the GPUs left over are data-parallel replicas), the same
rule as the HTTP API and Python (gpuplan::limits::resolve_parallelism).";

/// Arguments of `gpuplan estimate`.
#[derive(Debug, Clone, Args)]
pub struct EstimateArgs {
    /// Catalog id, Hugging Face repo id (org/name), or path to a config.json or its directory.
    #[arg(long, value_name = "MODEL", env = "GPUPLAN_MODEL")]
    pub model: String,

    /// GPU (catalog id, name or alias) [default: the first GPU of the user config].
    #[arg(long, value_name = "GPU", env = "GPUPLAN_GPU")]
    pub gpu: Option<String>,

    /// Parallel layout.
    #[command(flatten)]
    pub parallel: ParallelArgs,

    /// Prompt tokens per request (the mean with --dataset sharegpt, default 215 there; not
    /// needed with a length file).
    #[arg(long, value_name = "I", value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS), env = "GPUPLAN_INPUT_LEN")]
    pub input_len: Option<u64>,

    /// Generated tokens per request (as --input-len; default 194 with --dataset sharegpt).
    #[arg(long, value_name = "O", value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS), env = "GPUPLAN_OUTPUT_LEN")]
    pub output_len: Option<u64>,

    /// Concurrencies to estimate at (requests in flight, or `max`), comma-separated; the
    /// benchmark's --max-concurrency [default: 1,8,32,128,max for a steady closed loop; no cap
    /// for a finite run].
    #[arg(
        long = "max-concurrency",
        visible_alias = "concurrency",
        value_name = "C,...",
        value_delimiter = ','
    )]
    pub concurrency: Vec<ConcurrencyLevel>,

    /// Poisson arrivals, requests per second, or `inf` (every request at t=0): a finite run
    /// of --num-prompts requests.
    #[arg(long, value_name = "R|inf")]
    pub request_rate: Option<RequestRate>,

    /// Request lengths and run size.
    #[command(flatten)]
    pub workload: WorkloadArgs,

    /// Longest request the engine is configured for, tokens [default: input + output].
    #[arg(long, value_name = "L", value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS))]
    pub max_model_len: Option<u64>,

    /// The engine's memory fraction in (0, 1] [default: 0.9].
    #[arg(long, value_name = "U", value_parser = parse_fraction)]
    pub gpu_memory_utilization: Option<f64>,

    /// Store the weights in this format instead of the checkpoint's
    /// (bf16, fp8, fp8_block, int8, int4, nvfp4, mxfp4).
    #[arg(long, value_name = "Q", env = "GPUPLAN_WEIGHT_QUANT")]
    pub weight_quant: Option<WeightFormat>,

    /// KV-cache dtype (auto: the engine's default for the model).
    #[arg(
        long,
        value_name = "D",
        default_value = "auto",
        env = "GPUPLAN_KV_DTYPE"
    )]
    pub kv_dtype: KvDtypeChoice,

    /// Serving engine: vllm, sglang or trtllm [default: the user config's, else vllm].
    #[arg(long, value_name = "E", env = "GPUPLAN_ENGINE")]
    pub engine: Option<Engine>,

    /// Engine-profile file (from `gpuplan calibrate`) merged over the embedded profiles.
    #[arg(long, value_name = "PROFILE.toml", env = "GPUPLAN_PROFILE")]
    pub profile: Option<PathBuf>,

    /// Also write TTFT, ITL and throughput against concurrency as an SVG chart to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

const RECOMMEND_EXAMPLES: &str = "\
Examples:
  gpuplan recommend --model meta-llama/Llama-3.1-70B --input-len 2048 --output-len 512 \\
      --concurrency 32 --max-ttft-ms 1000 --max-itl-ms 50
  gpuplan recommend --model meta-llama/Llama-3.1-8B --request-rate 20 --max-itl-ms 30 \\
      --gpus H100,H200,L40S --price H100=2.10 --emit vllm
  gpuplan recommend --model deepseek-ai/DeepSeek-V3 --max-gpus 16 --allow-quant fp8,nvfp4 \\
      --mode auto --objective throughput --plot pareto.svg --report report.html
  gpuplan recommend --model Qwen/Qwen3-32B --no-perf --json   # memory fit only

Exit codes: 0 a configuration meets every limit, 1 none does (the closest misses are printed with
the limit that excluded each), 2 usage or input error.";

/// Arguments of `gpuplan recommend`.
#[derive(Debug, Clone, Args)]
pub struct RecommendArgs {
    /// Catalog id, Hugging Face repo id (org/name), or path to a config.json or its directory.
    #[arg(
        help_heading = "Model",
        long,
        value_name = "MODEL",
        env = "GPUPLAN_MODEL"
    )]
    pub model: String,

    /// Prompt tokens per request.
    #[arg(help_heading = "Workload", long, value_name = "I", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS), env = "GPUPLAN_INPUT_LEN")]
    pub input_len: u64,

    /// Generated tokens per request.
    #[arg(help_heading = "Workload", long, value_name = "O", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS), env = "GPUPLAN_OUTPUT_LEN")]
    pub output_len: u64,

    /// Requests in flight at all times, whole deployment (closed loop; the benchmark's
    /// --max-concurrency) [default: the highest throughput within the limits].
    #[arg(help_heading = "Workload", long = "max-concurrency", visible_alias = "concurrency", value_name = "C", value_parser = clap::value_parser!(u64).range(1..=1_000_000), conflicts_with = "request_rate")]
    pub concurrency: Option<u64>,

    /// Poisson arrivals, requests per second, whole deployment.
    #[arg(help_heading = "Workload", long, value_name = "R", value_parser = parse_positive)]
    pub request_rate: Option<f64>,

    /// Largest mean time to first token, milliseconds (queueing included).
    #[arg(help_heading = "Limits", long, value_name = "MS", value_parser = parse_positive)]
    pub max_ttft_ms: Option<f64>,

    /// Largest mean inter-token latency (first token excluded), milliseconds.
    #[arg(help_heading = "Limits", long, value_name = "MS", value_parser = parse_positive)]
    pub max_itl_ms: Option<f64>,

    /// Largest mean end-to-end request latency, milliseconds.
    #[arg(help_heading = "Limits", long, value_name = "MS", value_parser = parse_positive)]
    pub max_e2e_ms: Option<f64>,

    /// Smallest output throughput of the whole deployment, tokens per second.
    #[arg(help_heading = "Limits", long, value_name = "TOK_S", value_parser = parse_positive)]
    pub min_throughput_tok_s: Option<f64>,

    /// The statistic --max-ttft-ms, --max-itl-ms and --max-e2e-ms limit: mean, p50, p90 or p99
    /// [default: mean].
    #[arg(long, value_name = "STAT")]
    pub slo_percentile: Option<Statistic>,

    /// Largest 99th-percentile time to first token, milliseconds.
    #[arg(long, value_name = "MS", value_parser = parse_positive)]
    pub max_ttft_p99_ms: Option<f64>,

    /// Largest 99th-percentile inter-token latency, milliseconds.
    #[arg(long, value_name = "MS", value_parser = parse_positive)]
    pub max_itl_p99_ms: Option<f64>,

    /// Request lengths and run size.
    #[command(flatten)]
    pub workload: WorkloadArgs,

    /// GPUs to consider (ids, names or aliases), comma-separated
    /// [default: the user config's, else every GPU of the catalog].
    #[arg(
        help_heading = "Search",
        long,
        value_name = "GPU,...",
        value_delimiter = ',',
        env = "GPUPLAN_GPUS"
    )]
    pub gpus: Vec<String>,

    /// Most GPUs in one replica (both pools of a disaggregated one); counts beyond one node are
    /// whole nodes.
    #[arg(help_heading = "Search", long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLEL)), env = "GPUPLAN_MAX_GPUS")]
    pub max_gpus: u32,

    /// Weight formats to try: native (or none) plans the checkpoint as it is; a list (fp8,
    /// fp8_block, int8, int4, nvfp4, mxfp4, bf16) also tries requantizing to those formats where
    /// the GPU runs them natively [default: native].
    #[arg(help_heading = "Search", long, value_name = "Q,...")]
    pub allow_quant: Option<AllowQuant>,

    /// KV-cache dtypes to try (auto: the checkpoint's own, bf16, fp8) [default: auto].
    #[arg(
        help_heading = "Search",
        long,
        value_name = "D,...",
        value_delimiter = ',',
        env = "GPUPLAN_KV_DTYPE"
    )]
    pub kv_dtype: Vec<KvDtypeChoice>,

    /// Serving engines to try (vllm, sglang, trtllm) [default: the user config's, else vllm].
    #[arg(
        help_heading = "Search",
        long,
        value_name = "E,...",
        value_delimiter = ',',
        env = "GPUPLAN_ENGINE"
    )]
    pub engine: Vec<Engine>,

    /// Serving mode: agg (prefill and decode together), disagg (separate pools) or auto (both).
    #[arg(
        help_heading = "Search",
        long,
        value_name = "MODE",
        default_value = "agg"
    )]
    pub mode: ServingMode,

    /// What to rank by: cost ($ per million output tokens), throughput (tok/s per GPU) or
    /// latency (end-to-end).
    #[arg(
        help_heading = "Search",
        long,
        value_name = "OBJ",
        default_value = "cost"
    )]
    pub objective: Objective,

    /// Hourly price of a GPU, US dollars per GPU-hour (repeatable, or comma-separated).
    #[arg(help_heading = "Search", long, value_name = "GPU=USD", value_parser = parse_price, value_delimiter = ',')]
    pub price: Vec<(String, f64)>,

    /// Configurations to show.
    #[arg(help_heading = "Output", long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub top: u64,

    /// Show every variant of a deployment (rows that differ only in weight format or KV dtype
    /// are folded into the best one by default; JSON always has them all).
    #[arg(long, help_heading = "Output")]
    pub all_variants: bool,

    /// Also print how to launch the best configuration: vllm, sglang or trtllm (one command
    /// per node and role, for the best configuration planned for that engine; without
    /// --engine, the search plans for that engine), k8s (Deployments / LeaderWorkerSets) or
    /// llm-d (Helm values for llm-d's model-service chart).
    #[arg(
        help_heading = "Output",
        long,
        value_name = "TARGET",
        env = "GPUPLAN_EMIT"
    )]
    pub emit: Option<EmitTarget>,

    /// Write the Pareto plot (tokens/s per GPU against tokens/s per user) as SVG to this file.
    #[arg(help_heading = "Output", long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Write a self-contained HTML report (inputs, ranking, plots, launch command) to this file.
    #[arg(help_heading = "Output", long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    /// Skip performance estimation: rank by memory fit and price only (latency limits are not
    /// checked).
    #[arg(long, help_heading = "Search")]
    pub no_perf: bool,

    /// Longest request the engine is configured for, tokens [default: input + output].
    #[arg(help_heading = "Search", long, value_name = "L", value_parser = clap::value_parser!(u64).range(1..=MAX_TOKENS))]
    pub max_model_len: Option<u64>,

    /// The engine's memory fraction in (0, 1] [default: 0.9].
    #[arg(help_heading = "Search", long, value_name = "U", value_parser = parse_fraction)]
    pub gpu_memory_utilization: Option<f64>,

    /// Engine-profile file (from `gpuplan calibrate`) merged over the embedded profiles.
    #[arg(
        help_heading = "Search",
        long,
        value_name = "PROFILE.toml",
        env = "GPUPLAN_PROFILE"
    )]
    pub profile: Option<PathBuf>,
}

const VALIDATE_EXAMPLES: &str = "\
Examples:
  gpuplan validate data/measurements/perf_calibration.csv
  gpuplan validate runs.csv --models-dir ./configs --json > scores.json
  gpuplan validate runs.csv --profile fitted.toml

The CSV has the columns of data/measurements/perf_calibration.csv (id, model, config,
weight_quant, kv_dtype, gpu, tp, pp, dp, ep, engine, isl, osl, concurrency, ttft_ms, itl_ms,
output_tok_s, notes). `concurrency` may be `max`; empty measurement cells are not scored. A row
that cannot be predicted is reported with its error and does not stop the run.";

/// Arguments of `gpuplan validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// The measurement CSV.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,

    /// Directory holding each row's `config` file [default: resolve rows from the catalog].
    #[arg(long, value_name = "DIR", env = "GPUPLAN_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,

    /// Engine-profile file (from `gpuplan calibrate`) merged over the embedded profiles.
    #[arg(long, value_name = "PROFILE.toml", env = "GPUPLAN_PROFILE")]
    pub profile: Option<PathBuf>,
}

const CALIBRATE_EXAMPLES: &str = "\
Examples:
  gpuplan calibrate my-runs.csv -o my-profile.toml
  gpuplan estimate --model Qwen/Qwen3-32B --gpu H100 --tp 2 --input-len 1024 --output-len 128 \\
      --profile my-profile.toml
  gpuplan calibrate runs.csv -o fitted.toml --models-dir ./configs --rounds 12

Fits each engine's overhead and scale constants (step overhead, TTFT overhead, kernel, attention
and compute time scales, burst share, TTFT steps) to the rows of that engine; per-GPU kernel
efficiencies are kept. The written file is loadable with --profile by estimate, validate and
recommend.";

/// Arguments of `gpuplan calibrate`.
#[derive(Debug, Clone, Args)]
pub struct CalibrateArgs {
    /// The measurement CSV (the columns of `gpuplan validate`).
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,

    /// Where to write the fitted profile (TOML).
    #[arg(short, long, value_name = "PROFILE.toml")]
    pub output: PathBuf,

    /// Directory holding each row's `config` file [default: resolve rows from the catalog].
    #[arg(long, value_name = "DIR", env = "GPUPLAN_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,

    /// Profile to start from, merged over the embedded profiles.
    #[arg(long, value_name = "PROFILE.toml", env = "GPUPLAN_PROFILE")]
    pub profile: Option<PathBuf>,

    /// Coordinate-search rounds per engine (more: slower, possibly better fit).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub rounds: u64,
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
