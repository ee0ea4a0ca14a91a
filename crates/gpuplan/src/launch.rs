//! How to launch a configuration: the [`LaunchPlan`] (commands per node and role, the engine
//! config files they reference, environment, caveats) and its renderings (`vllm serve`,
//! SGLang, `trtllm-serve`, Kubernetes manifests, llm-d Helm values).
//!
//! [`recommend`](crate::recommend()) attaches a plan to every configuration it returns, built
//! for the engine the configuration was modelled for; [`render`] turns it into text.
//!
//! ```
//! use gpuplan::{launch_command, recommend, EmitTarget, RecommendRequest};
//!
//! let rec = recommend(&RecommendRequest::new("meta-llama/Llama-3.1-8B").gpus(["H100"]))?;
//! let cmd = launch_command(EmitTarget::Vllm, &rec.configurations[0])?;
//! assert!(cmd.contains("vllm serve meta-llama/Llama-3.1-8B"));
//! # Ok::<(), gpuplan::Error>(())
//! ```

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use gpuplan_core::hardware::Vendor;
use gpuplan_core::memory::Engine;
use gpuplan_core::quant::{KvDtype, WeightFormat};
use gpuplan_core::search::ServingMode;
use serde::{Deserialize, Serialize};

use crate::recommend::Configuration;

/// The engine releases whose flags the commands are written for (checked by the
/// `engine_flags` test against `tests/data/engine_flags.json`).
pub const VLLM_VERSION: &str = "0.33.0";
/// SGLang release the commands are written for.
pub const SGLANG_VERSION: &str = "0.5.23";

/// Placeholder for the address of node 0 of a multi-node instance (set `LEADER_ADDR` on every
/// node; in a LeaderWorkerSet it becomes `LWS_LEADER_ADDRESS`).
const LEADER_ADDR: &str = "${LEADER_ADDR}";
/// Port of vLLM's data-parallel RPC and SGLang's / vLLM's distributed init.
const DIST_PORT: u16 = 29500;
/// Name of the Kubernetes Secret holding the Hugging Face token (key `token`).
const HF_SECRET: &str = "hf-token";
/// Where the model cache volume is mounted.
const MODEL_CACHE_PATH: &str = "/root/.cache/huggingface";
/// The llm-d-modelservice chart commit whose values.yaml the `--emit llm-d` keys follow.
pub const LLM_D_CHART_COMMIT: &str = "024c0f2d02373736f1f3a6940a4f5a264455cfd1";

/// What `--emit` renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmitTarget {
    /// `vllm serve ...` (one command per node and role).
    Vllm,
    /// `python -m sglang.launch_server ...`.
    Sglang,
    /// `trtllm-serve ...` with its extra LLM-API options file.
    Trtllm,
    /// Kubernetes manifests: a Deployment per single-node pool, a LeaderWorkerSet per
    /// multi-node pool, Services and the model-cache claim.
    K8s,
    /// Helm values for llm-d's model-service chart (prefill and decode pools).
    #[serde(rename = "llm-d")]
    LlmD,
}

impl EmitTarget {
    /// Every target.
    pub const ALL: [EmitTarget; 5] = [
        EmitTarget::Vllm,
        EmitTarget::Sglang,
        EmitTarget::Trtllm,
        EmitTarget::K8s,
        EmitTarget::LlmD,
    ];

    /// Canonical name (`vllm`, `sglang`, `trtllm`, `k8s`, `llm-d`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmitTarget::Vllm => "vllm",
            EmitTarget::Sglang => "sglang",
            EmitTarget::Trtllm => "trtllm",
            EmitTarget::K8s => "k8s",
            EmitTarget::LlmD => "llm-d",
        }
    }

    /// The engine whose command this target prints (None for manifests, which run the engine
    /// the configuration was planned for).
    pub fn engine(self) -> Option<Engine> {
        match self {
            EmitTarget::Vllm => Some(Engine::Vllm),
            EmitTarget::Sglang => Some(Engine::Sglang),
            EmitTarget::Trtllm => Some(Engine::Trtllm),
            EmitTarget::K8s | EmitTarget::LlmD => None,
        }
    }
}

impl fmt::Display for EmitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EmitTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vllm" => Ok(EmitTarget::Vllm),
            "sglang" => Ok(EmitTarget::Sglang),
            "trtllm" | "tensorrt-llm" | "trt-llm" => Ok(EmitTarget::Trtllm),
            "k8s" | "kubernetes" => Ok(EmitTarget::K8s),
            "llm-d" | "llmd" | "llm_d" => Ok(EmitTarget::LlmD),
            other => Err(format!(
                "unknown emit target '{other}'; expected vllm, sglang, trtllm, k8s or llm-d"
            )),
        }
    }
}

/// Why a plan cannot be rendered (or built) as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// `--emit` names an engine other than the one the configuration was modelled for.
    #[error(
        "this configuration was planned for {planned}, not {asked}: its memory and speed \
         are {planned}'s; plan for {asked} with --engine {asked}"
    )]
    EngineMismatch {
        /// The engine the plan was modelled for.
        planned: String,
        /// The engine asked for.
        asked: String,
    },
    /// The configuration carries no launch plan (built outside `recommend`).
    #[error("this configuration has no launch plan (only configurations from recommend do)")]
    NoPlan,
    /// A layout that the target cannot express.
    #[error("{0}")]
    Unsupported(String),
}

/// What a pool of engine instances does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Aggregated serving: prefill and decode in the same instances.
    Serve,
    /// Prefill-only instances of a disaggregated deployment.
    Prefill,
    /// Decode-only instances of a disaggregated deployment.
    Decode,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Serve => "serve",
            Role::Prefill => "prefill",
            Role::Decode => "decode",
        }
    }
}

/// The command one node of an engine instance runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeCommand {
    /// Node rank inside the instance (0: the leader, which serves the API).
    pub node_rank: u32,
    /// The command line, one word per element; `${LEADER_ADDR}` stands for node 0's address.
    pub argv: Vec<String>,
}

/// Identical engine instances in one role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// What the instances do.
    pub role: Role,
    /// Instances of the whole deployment (all replicas).
    pub instances: u32,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// Nodes one instance spans.
    pub nodes_per_instance: u32,
    /// GPUs each node of an instance uses.
    pub gpus_per_node: u32,
    /// Tensor-parallel size.
    pub tp: u32,
    /// Pipeline-parallel size.
    pub pp: u32,
    /// Data-parallel (attention-DP) size.
    pub dp: u32,
    /// Expert-parallel size.
    pub ep: u32,
    /// One command per node of an instance, node 0 first.
    pub nodes: Vec<NodeCommand>,
    /// For multi-node instances in a LeaderWorkerSet: the command of any worker pod, its rank
    /// read from `LWS_WORKER_INDEX` by the shell (None when workers need no command).
    pub worker_template: Option<Vec<String>>,
}

/// A file the commands reference, written in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// File name, relative to the working directory of the command.
    pub path: String,
    /// The role whose commands read it (None: all).
    pub role: Option<Role>,
    /// The whole file.
    pub contents: String,
}

/// An environment variable of the engine process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Literal value (None when it comes from a secret).
    pub value: Option<String>,
    /// Kubernetes Secret name and key holding the value.
    pub secret: Option<(String, String)>,
}

/// How the weights the plan assumed are obtained from the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Quantization {
    /// Served as stored (the engine reads the checkpoint's own quantization config): no flag.
    AsCheckpoint {
        /// The checkpoint's format.
        format: WeightFormat,
    },
    /// The engine quantizes a high-precision checkpoint while loading it.
    LoadTime {
        /// The checkpoint's format.
        from: WeightFormat,
        /// The format served.
        to: WeightFormat,
        /// The engine's `--quantization` value.
        flag_value: String,
    },
    /// The planned format cannot be made from this checkpoint at load time: a checkpoint
    /// already quantized to `planned` is needed (no flag is emitted; the command as written
    /// would serve `checkpoint`).
    NeedsCheckpoint {
        /// The checkpoint's format.
        checkpoint: WeightFormat,
        /// The format the plan assumed.
        planned: WeightFormat,
    },
}

/// Decides, in one place, how `engine` obtains `planned` weights from a `checkpoint` stored in
/// its own format: as stored, quantized at load time (only from bf16/fp16/fp32 to fp8, where
/// the engine can), or not at all (a checkpoint already quantized can be neither re-quantized
/// nor up-converted by a flag; passing one makes the engines refuse a mismatching
/// quantization config, or silently serve the stored format).
pub fn load_quantization(
    engine: Engine,
    checkpoint: WeightFormat,
    planned: WeightFormat,
) -> Quantization {
    if checkpoint == planned {
        return Quantization::AsCheckpoint { format: checkpoint };
    }
    let high_precision = matches!(
        checkpoint,
        WeightFormat::F32 | WeightFormat::Bf16 | WeightFormat::Fp16
    );
    // vLLM 0.33 spells its online fp8 schemes fp8_per_tensor / fp8_per_block
    // (vllm/model_executor/layers/quantization/__init__.py, QuantizationMethods); SGLang
    // 0.5.23 quantizes to fp8 at load time with `--quantization fp8`; TensorRT-LLM's PyTorch
    // backend serves ModelOpt-quantized checkpoints only.
    let flag_value = match (engine, planned) {
        (Engine::Vllm, WeightFormat::Fp8) => Some("fp8_per_tensor"),
        (Engine::Vllm, WeightFormat::Fp8Block) => Some("fp8_per_block"),
        (Engine::Sglang, WeightFormat::Fp8) => Some("fp8"),
        _ => None,
    };
    match flag_value {
        Some(flag_value) if high_precision => Quantization::LoadTime {
            from: checkpoint,
            to: planned,
            flag_value: flag_value.to_string(),
        },
        _ => Quantization::NeedsCheckpoint {
            checkpoint,
            planned,
        },
    }
}

/// Container image of `engine` for `vendor`. Sources: Docker Hub `vllm/vllm-openai` (CUDA),
/// `rocm/vllm` (ROCm docs), `opea/vllm-gaudi` (llm-d-modelservice examples/values-gaudi.yaml),
/// `vllm/vllm-tpu` (vLLM TPU docs), `lmsysorg/sglang` (SGLang docs), `rocm/sgl-dev` (ROCm
/// SGLang docs), `nvcr.io/nvidia/tensorrt-llm/release` (TensorRT-LLM docs).
pub fn engine_image(engine: Engine, vendor: Vendor) -> &'static str {
    match (engine, vendor) {
        (Engine::Vllm, Vendor::Nvidia) => "vllm/vllm-openai:v0.33.0",
        (Engine::Vllm, Vendor::Amd) => "rocm/vllm:latest",
        (Engine::Vllm, Vendor::Intel) => "opea/vllm-gaudi:1.22.0",
        (Engine::Vllm, Vendor::Google) => "vllm/vllm-tpu:latest",
        (Engine::Sglang, Vendor::Amd) => "rocm/sgl-dev:v0.5.13.post1-ubuntu24.04-py3.14-rocm7.14",
        (Engine::Sglang, _) => "lmsysorg/sglang:v0.5.23",
        (Engine::Trtllm, _) => "nvcr.io/nvidia/tensorrt-llm/release:latest",
    }
}

/// Kubernetes device-plugin resource of a vendor (the names llm-d-modelservice's values use).
pub fn device_resource(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Nvidia => "nvidia.com/gpu",
        Vendor::Amd => "amd.com/gpu",
        Vendor::Intel => "habana.ai/gaudi",
        Vendor::Google => "google.com/tpu",
    }
}

/// Node label that names the accelerator model (NVIDIA GPU Feature Discovery, AMD node
/// labeller, Intel Gaudi device plugin, GKE).
fn node_label_key(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Nvidia => "nvidia.com/gpu.product",
        Vendor::Amd => "amd.com/gpu.product-name",
        Vendor::Intel => "habana.ai/gaudi.product",
        Vendor::Google => "cloud.google.com/gke-tpu-accelerator",
    }
}

/// The engine-independent facts a plan needs besides the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchInputs {
    /// Model id or path as the user gave it (served under the same name).
    pub model: String,
    /// The checkpoint's own weight format (from its quantization config).
    pub checkpoint: WeightFormat,
    /// GPUs in one node of this GPU type (catalog).
    pub gpus_per_node: u32,
    /// Fraction of GPU memory the plan gave the engine.
    pub gpu_memory_utilization: f64,
    /// Running requests per engine scheduler (per DP rank) the plan assumed.
    pub max_num_seqs: u32,
    /// Tokens per scheduler step the plan assumed.
    pub max_num_batched_tokens: u32,
    /// Size of the model-cache volume, GiB (checkpoint weights plus room).
    pub model_cache_gib: u32,
}

/// Everything needed to launch one configuration: data, rendered by [`render`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchPlan {
    /// The engine the configuration was modelled for.
    pub engine: Engine,
    /// The engine release the flags are written for.
    pub engine_version: String,
    /// Model id or path.
    pub model: String,
    /// Name the API serves the model under.
    pub served_model_name: String,
    /// HTTP port of the API.
    pub port: u16,
    /// Container image for the GPU's vendor.
    pub image: String,
    /// Catalog id of the GPU.
    pub gpu: String,
    /// GPU display name.
    pub gpu_name: String,
    /// GPU vendor.
    pub gpu_vendor: Vendor,
    /// Kubernetes device resource.
    pub device_resource: String,
    /// Fraction of GPU memory given to the engine.
    pub gpu_memory_utilization: f64,
    /// Running requests per scheduler (per DP rank).
    pub max_num_seqs: u32,
    /// Tokens per scheduler step.
    pub max_num_batched_tokens: u32,
    /// Longest request, tokens.
    pub max_model_len: u64,
    /// KV-cache dtype.
    pub kv_dtype: KvDtype,
    /// How the planned weights are obtained.
    pub quantization: Quantization,
    /// KV connector between prefill and decode (disaggregated plans).
    pub kv_connector: Option<String>,
    /// Model-cache volume size, GiB.
    pub model_cache_gib: u32,
    /// The pools: one (`serve`) aggregated, `prefill` and `decode` disaggregated.
    pub pools: Vec<Pool>,
    /// Engine config files the commands reference.
    pub files: Vec<ConfigFile>,
    /// Environment of every engine process.
    pub env: Vec<EnvVar>,
    /// What the commands alone cannot say.
    pub caveats: Vec<String>,
}

/// How a node is addressed while building its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeRef {
    /// A concrete node rank.
    Rank(u32),
    /// Any worker of a LeaderWorkerSet (rank from `LWS_WORKER_INDEX`).
    LwsWorker,
}

impl NodeRef {
    fn rank(self) -> String {
        match self {
            NodeRef::Rank(r) => r.to_string(),
            NodeRef::LwsWorker => "${LWS_WORKER_INDEX}".into(),
        }
    }
    fn times(self, k: u32) -> String {
        match self {
            NodeRef::Rank(r) => (r * k).to_string(),
            NodeRef::LwsWorker => format!("$((LWS_WORKER_INDEX * {k}))"),
        }
    }
    fn is_leader(self) -> bool {
        self == NodeRef::Rank(0)
    }
}

/// One pool's layout as the builders see it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    role: Role,
    tp: u32,
    pp: u32,
    dp: u32,
    ep: u32,
    nodes: u32,
    gpus_per_node: u32,
}

impl Layout {
    fn gpus(&self) -> u32 {
        self.tp * self.pp * self.dp
    }
    /// DP ranks on one node (vLLM's --data-parallel-size-local).
    fn dp_local(&self) -> u32 {
        (self.gpus_per_node / (self.tp * self.pp).max(1)).max(1)
    }
}

fn layout(role: Role, tp: u32, pp: u32, dp: u32, ep: u32, gpus_per_node: u32) -> Layout {
    let gpus = (tp * pp * dp).max(1);
    let per_node_max = gpus_per_node.max(1);
    let nodes = gpus.div_ceil(per_node_max);
    Layout {
        role,
        tp,
        pp,
        dp,
        ep,
        nodes,
        gpus_per_node: gpus.div_ceil(nodes),
    }
}

/// Builds the launch plan of `cfg` for the engine it was modelled for.
pub fn plan_launch(cfg: &Configuration, inputs: &LaunchInputs) -> Result<LaunchPlan, LaunchError> {
    let engine: Engine = cfg
        .engine
        .parse()
        .map_err(|_| LaunchError::Unsupported(format!("unknown engine '{}'", cfg.engine)))?;
    let gpn = inputs.gpus_per_node.max(1);
    let mut layouts = Vec::new();
    if let (ServingMode::Disagg, Some(d)) = (cfg.mode, &cfg.disagg) {
        layouts.push((
            layout(
                Role::Prefill,
                d.prefill_tp,
                d.prefill_pp,
                d.prefill_dp,
                d.prefill_ep,
                gpn,
            ),
            d.prefill_instances * cfg.replicas,
        ));
        layouts.push((
            layout(Role::Decode, cfg.tp, cfg.pp, cfg.dp, cfg.ep, gpn),
            d.decode_instances * cfg.replicas,
        ));
    } else {
        layouts.push((
            layout(Role::Serve, cfg.tp, cfg.pp, cfg.dp, cfg.ep, gpn),
            cfg.replicas,
        ));
    }
    let quantization = load_quantization(engine, inputs.checkpoint, cfg.weight_quant);
    let disagg = layouts.len() > 1;
    let mut plan = LaunchPlan {
        engine,
        engine_version: match engine {
            Engine::Vllm => VLLM_VERSION.into(),
            Engine::Sglang => SGLANG_VERSION.into(),
            Engine::Trtllm => "trtllm-serve (PyTorch backend)".into(),
        },
        model: inputs.model.clone(),
        served_model_name: inputs.model.clone(),
        port: match engine {
            Engine::Sglang => 30000,
            _ => 8000,
        },
        image: engine_image(engine, cfg.gpu_vendor).into(),
        gpu: cfg.gpu.clone(),
        gpu_name: cfg.gpu_name.clone(),
        gpu_vendor: cfg.gpu_vendor,
        device_resource: device_resource(cfg.gpu_vendor).into(),
        gpu_memory_utilization: inputs.gpu_memory_utilization,
        max_num_seqs: inputs.max_num_seqs.max(1),
        max_num_batched_tokens: inputs.max_num_batched_tokens.max(1),
        max_model_len: cfg.max_model_len,
        kv_dtype: cfg.kv_dtype,
        quantization,
        kv_connector: disagg.then(|| {
            match engine {
                Engine::Vllm => "NixlConnector",
                Engine::Sglang => "nixl",
                Engine::Trtllm => "NIXL",
            }
            .to_string()
        }),
        model_cache_gib: inputs.model_cache_gib.max(1),
        pools: Vec::new(),
        files: Vec::new(),
        env: vec![EnvVar {
            name: "HF_TOKEN".into(),
            value: None,
            secret: Some((HF_SECRET.into(), "token".into())),
        }],
        caveats: Vec::new(),
    };
    if let Quantization::NeedsCheckpoint {
        checkpoint,
        planned,
    } = plan.quantization
    {
        plan.caveats.push(format!(
            "the plan assumes {planned} weights but {} is stored as {checkpoint}, which {engine} \
             cannot convert at load time: point the command at a checkpoint quantized to \
             {planned} (as written it serves {checkpoint})",
            inputs.model
        ));
    }
    for (l, instances) in &layouts {
        if l.nodes > 1 && !l.gpus().is_multiple_of(l.nodes) {
            return Err(LaunchError::Unsupported(format!(
                "{} GPUs do not split evenly over {} nodes of {gpn}",
                l.gpus(),
                l.nodes
            )));
        }
        let (nodes, worker_template) = match engine {
            Engine::Vllm => vllm_nodes(&plan, l)?,
            Engine::Sglang => sglang_nodes(&plan, l),
            Engine::Trtllm => trtllm_nodes(&plan, l),
        };
        plan.pools.push(Pool {
            role: l.role,
            instances: *instances,
            gpus_per_instance: l.gpus(),
            nodes_per_instance: l.nodes,
            gpus_per_node: l.gpus_per_node,
            tp: l.tp,
            pp: l.pp,
            dp: l.dp,
            ep: l.ep,
            nodes,
            worker_template,
        });
        if engine == Engine::Trtllm {
            plan.files.push(trtllm_options_file(&plan, l));
        }
    }
    if let Some(p) = plan.pools.iter().find(|p| p.nodes_per_instance > 1) {
        if engine == Engine::Trtllm {
            plan.caveats.push(format!(
                "multi-node: node 0 starts all {} nodes of an instance through MPI: list them in \
                 `hostfile` (one `ADDRESS slots={}` line per node) and make them reachable over ssh",
                p.nodes_per_instance, p.gpus_per_node
            ));
        }
    }
    if disagg {
        plan.caveats.push(match engine {
            Engine::Vllm => "disaggregated: prefill and decode instances exchange KV caches through the NIXL connector; put a P/D-aware router in front (llm-d: --emit llm-d)".to_string(),
            Engine::Sglang => format!(
                "disaggregated: KV caches move over {}; route with `python -m sglang_router.launch_router --pd-disaggregation --prefill http://PREFILL:{} --decode http://DECODE:{}`",
                "NIXL", plan.port, plan.port
            ),
            Engine::Trtllm => "disaggregated: start the router with `trtllm-serve disaggregated -c disagg-config.yaml` after filling in the instance addresses".to_string(),
        });
        if engine == Engine::Trtllm {
            plan.files.push(trtllm_disagg_file(&plan));
        }
    }
    if cfg.replicas > 1 {
        plan.caveats.push(format!(
            "{} replicas of the deployment behind a load balancer (pool instance counts include them)",
            cfg.replicas
        ));
    }
    Ok(plan)
}

fn kv_json() -> String {
    r#"{"kv_connector":"NixlConnector","kv_role":"kv_both"}"#.to_string()
}

fn vllm_argv(plan: &LaunchPlan, l: &Layout, node: NodeRef) -> Result<Vec<String>, LaunchError> {
    let mut a: Vec<String> = vec!["vllm".into(), "serve".into(), plan.model.clone()];
    let mut push = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    push("--served-model-name", plan.served_model_name.clone());
    push("--host", "0.0.0.0".into());
    push("--port", plan.port.to_string());
    push("--tensor-parallel-size", l.tp.to_string());
    push("--pipeline-parallel-size", l.pp.to_string());
    push("--max-model-len", plan.max_model_len.to_string());
    push(
        "--gpu-memory-utilization",
        plan.gpu_memory_utilization.to_string(),
    );
    push("--max-num-seqs", plan.max_num_seqs.to_string());
    push(
        "--max-num-batched-tokens",
        plan.max_num_batched_tokens.to_string(),
    );
    if plan.kv_dtype == KvDtype::Fp8 {
        push("--kv-cache-dtype", "fp8".into());
    }
    if let Quantization::LoadTime { flag_value, .. } = &plan.quantization {
        push("--quantization", flag_value.clone());
    }
    if l.dp > 1 {
        push("--data-parallel-size", l.dp.to_string());
    }
    if l.role != Role::Serve {
        push("--kv-transfer-config", kv_json());
    }
    if l.nodes > 1 {
        if l.dp > 1 {
            if !l.gpus_per_node.is_multiple_of(l.tp * l.pp) {
                return Err(LaunchError::Unsupported(format!(
                    "vLLM data parallelism across nodes needs whole tp x pp groups per node; \
                     tp {} pp {} on {}-GPU nodes",
                    l.tp, l.pp, l.gpus_per_node
                )));
            }
            push("--data-parallel-size-local", l.dp_local().to_string());
            push("--data-parallel-address", LEADER_ADDR.into());
            push("--data-parallel-rpc-port", DIST_PORT.to_string());
            if !node.is_leader() {
                push("--data-parallel-start-rank", node.times(l.dp_local()));
            }
        } else {
            push("--nnodes", l.nodes.to_string());
            push("--node-rank", node.rank());
            push("--master-addr", LEADER_ADDR.into());
            push("--master-port", DIST_PORT.to_string());
        }
        if !node.is_leader() {
            a.push("--headless".into());
        }
    }
    if l.ep > 1 {
        a.push("--enable-expert-parallel".into());
    }
    Ok(a)
}

type NodeCommands = (Vec<NodeCommand>, Option<Vec<String>>);

fn vllm_nodes(plan: &LaunchPlan, l: &Layout) -> Result<NodeCommands, LaunchError> {
    let nodes = (0..l.nodes)
        .map(|r| {
            Ok(NodeCommand {
                node_rank: r,
                argv: vllm_argv(plan, l, NodeRef::Rank(r))?,
            })
        })
        .collect::<Result<Vec<_>, LaunchError>>()?;
    let worker = if l.nodes > 1 {
        Some(vllm_argv(plan, l, NodeRef::LwsWorker)?)
    } else {
        None
    };
    Ok((nodes, worker))
}

fn sglang_argv(plan: &LaunchPlan, l: &Layout, node: NodeRef) -> Vec<String> {
    let mut a: Vec<String> = vec!["python".into(), "-m".into(), "sglang.launch_server".into()];
    let mut push = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    push("--model-path", plan.model.clone());
    push("--served-model-name", plan.served_model_name.clone());
    push("--host", "0.0.0.0".into());
    push("--port", plan.port.to_string());
    // SGLang's tensor-parallel size counts every GPU of the instance; attention DP splits it.
    push("--tp-size", (l.tp * l.dp).to_string());
    if l.pp > 1 {
        push("--pp-size", l.pp.to_string());
    }
    if l.dp > 1 {
        push("--attn-dp-size", l.dp.to_string());
    }
    if l.ep > 1 {
        push("--ep-size", l.ep.to_string());
    }
    push("--context-length", plan.max_model_len.to_string());
    push(
        "--mem-fraction-static",
        plan.gpu_memory_utilization.to_string(),
    );
    push(
        "--max-running-requests",
        (plan.max_num_seqs * l.dp.max(1)).to_string(),
    );
    push(
        "--chunked-prefill-size",
        plan.max_num_batched_tokens.to_string(),
    );
    if plan.kv_dtype == KvDtype::Fp8 {
        push("--kv-cache-dtype", "fp8_e4m3".into());
    }
    if let Quantization::LoadTime { flag_value, .. } = &plan.quantization {
        push("--quantization", flag_value.clone());
    }
    if l.role != Role::Serve {
        push("--disaggregation-mode", l.role.as_str().into());
        push("--disaggregation-transfer-backend", "nixl".into());
    }
    if l.nodes > 1 {
        push("--nnodes", l.nodes.to_string());
        push("--node-rank", node.rank());
        push("--dist-init-addr", format!("{LEADER_ADDR}:{DIST_PORT}"));
    }
    a
}

fn sglang_nodes(plan: &LaunchPlan, l: &Layout) -> NodeCommands {
    let nodes = (0..l.nodes)
        .map(|r| NodeCommand {
            node_rank: r,
            argv: sglang_argv(plan, l, NodeRef::Rank(r)),
        })
        .collect();
    let worker = (l.nodes > 1).then(|| sglang_argv(plan, l, NodeRef::LwsWorker));
    (nodes, worker)
}

fn trtllm_options_name(role: Role) -> String {
    match role {
        Role::Serve => "extra-llm-api-options.yaml".into(),
        r => format!("extra-llm-api-options-{}.yaml", r.as_str()),
    }
}

fn trtllm_nodes(plan: &LaunchPlan, l: &Layout) -> NodeCommands {
    let mut a: Vec<String> = Vec::new();
    if l.nodes > 1 {
        // One MPI job over every node of the instance, started from node 0.
        a.extend([
            "mpirun".into(),
            "--hostfile".into(),
            "hostfile".into(),
            "-np".into(),
            l.gpus().to_string(),
            "--npernode".into(),
            l.gpus_per_node.to_string(),
            "trtllm-llmapi-launch".into(),
        ]);
    }
    a.extend(["trtllm-serve".into(), plan.model.clone()]);
    let mut push = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    push("--host", "0.0.0.0".into());
    push("--port", plan.port.to_string());
    push("--backend", "pytorch".into());
    // Attention DP runs over the TP group: tp_size counts every GPU.
    push("--tp_size", (l.tp * l.dp).to_string());
    push("--pp_size", l.pp.to_string());
    push("--ep_size", l.ep.to_string());
    push("--max_seq_len", plan.max_model_len.to_string());
    push("--max_batch_size", plan.max_num_seqs.to_string());
    push("--max_num_tokens", plan.max_num_batched_tokens.to_string());
    push(
        "--kv_cache_free_gpu_memory_fraction",
        plan.gpu_memory_utilization.to_string(),
    );
    push("--extra_llm_api_options", trtllm_options_name(l.role));
    (
        vec![NodeCommand {
            node_rank: 0,
            argv: a,
        }],
        None,
    )
}

/// TensorRT-LLM's extra LLM-API options: what `trtllm-serve` has no flag for.
fn trtllm_options_file(plan: &LaunchPlan, l: &Layout) -> ConfigFile {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# LLM API options for trtllm-serve ({} pool)",
        l.role.as_str()
    );
    let _ = writeln!(s, "enable_attention_dp: {}", l.dp > 1);
    let _ = writeln!(s, "max_batch_size: {}", plan.max_num_seqs);
    let _ = writeln!(s, "max_num_tokens: {}", plan.max_num_batched_tokens);
    let _ = writeln!(s, "kv_cache_config:");
    let _ = writeln!(
        s,
        "  dtype: {}",
        if plan.kv_dtype == KvDtype::Fp8 {
            "fp8"
        } else {
            "auto"
        }
    );
    let _ = writeln!(
        s,
        "  free_gpu_memory_fraction: {}",
        plan.gpu_memory_utilization
    );
    if l.role != Role::Serve {
        let _ = writeln!(s, "disable_overlap_scheduler: {}", l.role == Role::Prefill);
        let _ = writeln!(s, "cache_transceiver_config:");
        let _ = writeln!(s, "  backend: NIXL");
    }
    ConfigFile {
        path: trtllm_options_name(l.role),
        role: Some(l.role),
        contents: s,
    }
}

fn trtllm_disagg_file(plan: &LaunchPlan) -> ConfigFile {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# trtllm-serve disaggregated router: replace the addresses"
    );
    let _ = writeln!(s, "hostname: 0.0.0.0");
    let _ = writeln!(s, "port: {}", plan.port);
    let _ = writeln!(s, "backend: pytorch");
    for (key, role) in [
        ("context_servers", Role::Prefill),
        ("generation_servers", Role::Decode),
    ] {
        let n = plan
            .pools
            .iter()
            .find(|p| p.role == role)
            .map_or(0, |p| p.instances);
        let _ = writeln!(s, "{key}:");
        let _ = writeln!(s, "  num_instances: {n}");
        let _ = writeln!(s, "  urls:");
        for i in 0..n {
            let _ = writeln!(s, "    - \"{}-{i}:{}\"", role.as_str(), plan.port);
        }
    }
    ConfigFile {
        path: "disagg-config.yaml".into(),
        role: None,
        contents: s,
    }
}

/// A word quoted for a POSIX shell: `${VAR}` and `$((..))` stay expandable.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else if word.contains('$') && !word.contains(['"', '\\', '`']) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A command line for a shell.
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The launch command (or manifest) of a configuration from [`recommend`](crate::recommend()).
pub fn launch_command(target: EmitTarget, cfg: &Configuration) -> Result<String, LaunchError> {
    render(target, cfg.launch.as_ref().ok_or(LaunchError::NoPlan)?)
}

/// Renders a plan for `target`: engine commands only for the engine the plan was modelled for.
pub fn render(target: EmitTarget, plan: &LaunchPlan) -> Result<String, LaunchError> {
    if let Some(engine) = target.engine() {
        if engine != plan.engine {
            return Err(LaunchError::EngineMismatch {
                planned: plan.engine.to_string(),
                asked: engine.to_string(),
            });
        }
        return Ok(render_shell(plan));
    }
    match target {
        EmitTarget::K8s => render_k8s(plan),
        _ => render_llm_d(plan),
    }
}

fn render_shell(plan: &LaunchPlan) -> String {
    let mut s = String::new();
    for c in &plan.caveats {
        let _ = writeln!(s, "# {c}");
    }
    for f in &plan.files {
        let _ = writeln!(s, "cat > {} <<'EOF'", f.path);
        s.push_str(&f.contents);
        let _ = writeln!(s, "EOF");
    }
    if plan.pools.iter().any(|p| p.nodes.len() > 1) {
        let _ = writeln!(
            s,
            "# multi-node: run each node's command on its own node with LEADER_ADDR set to the \
             address of node 0 on every node; node 0 serves the API on port {}",
            plan.port
        );
    }
    let multi = plan.pools.len() > 1 || plan.pools.iter().any(|p| p.nodes.len() > 1);
    for p in &plan.pools {
        if multi {
            let _ = writeln!(
                s,
                "# {}: {} instance(s) of {} GPUs on {} node(s) (tp {} pp {} dp {} ep {})",
                p.role.as_str(),
                p.instances,
                p.gpus_per_instance,
                p.nodes_per_instance,
                p.tp,
                p.pp,
                p.dp,
                p.ep
            );
        }
        for n in &p.nodes {
            if p.nodes.len() > 1 {
                let _ = writeln!(
                    s,
                    "# {} node {}{}",
                    p.role.as_str(),
                    n.node_rank,
                    if n.node_rank == 0 { " (leader)" } else { "" }
                );
            }
            let _ = writeln!(s, "{}", shell_line(&n.argv));
        }
    }
    s
}

fn k8s_name(model: &str) -> String {
    let base = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let mut name: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_string();
    name.truncate(40);
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "gpuplan-model".into()
    } else {
        name.to_string()
    }
}

fn yaml_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Label value for the node selector (the GPU name; clusters label products their own way).
fn node_label_value(plan: &LaunchPlan) -> String {
    let v: String = plan
        .gpu_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    v.trim_matches('-').to_string()
}

/// The container `sh -c` script of a pod: the command with LWS's variables for the leader
/// address.
fn pod_script(argv: &[String]) -> String {
    format!("exec {}", shell_line(argv)).replace(LEADER_ADDR, "${LWS_LEADER_ADDRESS}")
}

#[allow(clippy::too_many_arguments)]
fn k8s_pod_spec(
    s: &mut String,
    indent: usize,
    plan: &LaunchPlan,
    name: &str,
    script: &str,
    gpus: u32,
    probe: bool,
) {
    let pad = " ".repeat(indent);
    let w = |s: &mut String, line: &str| {
        let _ = writeln!(s, "{pad}{line}");
    };
    w(s, "nodeSelector:");
    w(
        s,
        &format!(
            "  {}: {}",
            node_label_key(plan.gpu_vendor),
            yaml_quote(&node_label_value(plan))
        ),
    );
    w(s, "containers:");
    w(s, &format!("  - name: {name}"));
    w(s, &format!("    image: {}", plan.image));
    w(s, "    command: [\"/bin/sh\", \"-c\"]");
    w(s, "    args:");
    w(s, &format!("      - {}", yaml_quote(script)));
    w(s, "    env:");
    for e in &plan.env {
        w(s, &format!("      - name: {}", e.name));
        if let Some((secret, key)) = &e.secret {
            w(s, "        valueFrom:");
            w(s, "          secretKeyRef:");
            w(s, &format!("            name: {secret}"));
            w(s, &format!("            key: {key}"));
        } else if let Some(v) = &e.value {
            w(s, &format!("        value: {}", yaml_quote(v)));
        }
    }
    w(s, "      - name: HF_HOME");
    w(
        s,
        &format!("        value: {}", yaml_quote(MODEL_CACHE_PATH)),
    );
    w(s, "    ports:");
    w(s, &format!("      - containerPort: {}", plan.port));
    w(s, "        name: http");
    if probe {
        w(s, "    readinessProbe:");
        w(s, "      httpGet:");
        w(s, "        path: /health");
        w(s, &format!("        port: {}", plan.port));
        w(s, "      initialDelaySeconds: 60");
        w(s, "      periodSeconds: 10");
        w(s, "      failureThreshold: 360");
    }
    w(s, "    resources:");
    w(s, "      limits:");
    w(s, &format!("        {}: {gpus}", plan.device_resource));
    w(s, "      requests:");
    w(s, &format!("        {}: {gpus}", plan.device_resource));
    w(s, "    volumeMounts:");
    w(s, "      - name: model-cache");
    w(s, &format!("        mountPath: {MODEL_CACHE_PATH}"));
    w(s, "      - name: shm");
    w(s, "        mountPath: /dev/shm");
    w(s, "volumes:");
    w(s, "  - name: model-cache");
    w(s, "    persistentVolumeClaim:");
    w(
        s,
        &format!("      claimName: {}-model-cache", k8s_name(&plan.model)),
    );
    w(s, "  - name: shm");
    w(s, "    emptyDir:");
    w(s, "      medium: Memory");
    w(s, "      sizeLimit: 16Gi");
}

fn render_k8s(plan: &LaunchPlan) -> Result<String, LaunchError> {
    if plan.engine == Engine::Trtllm && plan.pools.iter().any(|p| p.nodes_per_instance > 1) {
        return Err(LaunchError::Unsupported(
            "no Kubernetes manifest for multi-node TensorRT-LLM (it launches every node from \
             node 0 with mpirun): use --emit trtllm"
                .into(),
        ));
    }
    let base = k8s_name(&plan.model);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} on {} ({}), {} {}; generated by gpuplan",
        plan.model, plan.gpu_name, plan.gpu, plan.engine, plan.engine_version
    );
    let _ = writeln!(
        s,
        "# needs: Secret {HF_SECRET} (key token) with a Hugging Face token; the LeaderWorkerSet \
         controller for multi-node pools; nodes labelled {}",
        node_label_key(plan.gpu_vendor)
    );
    for c in &plan.caveats {
        let _ = writeln!(s, "# {c}");
    }
    let _ = writeln!(s, "apiVersion: v1");
    let _ = writeln!(s, "kind: PersistentVolumeClaim");
    let _ = writeln!(s, "metadata:");
    let _ = writeln!(s, "  name: {base}-model-cache");
    let _ = writeln!(s, "spec:");
    let _ = writeln!(s, "  accessModes: [\"ReadWriteMany\"]");
    let _ = writeln!(s, "  resources:");
    let _ = writeln!(s, "    requests:");
    let _ = writeln!(s, "      storage: {}Gi", plan.model_cache_gib);
    for f in &plan.files {
        let _ = writeln!(s, "---");
        let _ = writeln!(s, "apiVersion: v1");
        let _ = writeln!(s, "kind: ConfigMap");
        let _ = writeln!(s, "metadata:");
        let _ = writeln!(
            s,
            "  name: {base}-{}",
            f.path.trim_end_matches(".yaml").replace('.', "-")
        );
        let _ = writeln!(s, "data:");
        let _ = writeln!(s, "  {}: |", f.path);
        for line in f.contents.lines() {
            let _ = writeln!(s, "    {line}");
        }
    }
    for p in &plan.pools {
        let name = if p.role == Role::Serve {
            base.clone()
        } else {
            format!("{base}-{}", p.role.as_str())
        };
        let leader = pod_script(&p.nodes[0].argv);
        let _ = writeln!(s, "---");
        if p.nodes_per_instance > 1 {
            let worker = pod_script(p.worker_template.as_deref().unwrap_or(&p.nodes[0].argv));
            let _ = writeln!(s, "apiVersion: leaderworkerset.x-k8s.io/v1");
            let _ = writeln!(s, "kind: LeaderWorkerSet");
            let _ = writeln!(s, "metadata:");
            let _ = writeln!(s, "  name: {name}");
            let _ = writeln!(s, "spec:");
            let _ = writeln!(s, "  replicas: {}", p.instances);
            let _ = writeln!(s, "  leaderWorkerTemplate:");
            let _ = writeln!(s, "    size: {}", p.nodes_per_instance);
            let _ = writeln!(s, "    restartPolicy: RecreateGroupOnPodRestart");
            let _ = writeln!(s, "    leaderTemplate:");
            let _ = writeln!(s, "      metadata:");
            let _ = writeln!(s, "        labels:");
            let _ = writeln!(s, "          app: {name}");
            let _ = writeln!(s, "          role: leader");
            let _ = writeln!(s, "      spec:");
            k8s_pod_spec(&mut s, 8, plan, "leader", &leader, p.gpus_per_node, true);
            let _ = writeln!(s, "    workerTemplate:");
            let _ = writeln!(s, "      spec:");
            k8s_pod_spec(&mut s, 8, plan, "worker", &worker, p.gpus_per_node, false);
        } else {
            let _ = writeln!(s, "apiVersion: apps/v1");
            let _ = writeln!(s, "kind: Deployment");
            let _ = writeln!(s, "metadata:");
            let _ = writeln!(s, "  name: {name}");
            let _ = writeln!(s, "  labels:");
            let _ = writeln!(s, "    app: {name}");
            let _ = writeln!(s, "spec:");
            let _ = writeln!(s, "  replicas: {}", p.instances);
            let _ = writeln!(s, "  selector:");
            let _ = writeln!(s, "    matchLabels:");
            let _ = writeln!(s, "      app: {name}");
            let _ = writeln!(s, "  template:");
            let _ = writeln!(s, "    metadata:");
            let _ = writeln!(s, "      labels:");
            let _ = writeln!(s, "        app: {name}");
            let _ = writeln!(s, "    spec:");
            let container = match plan.engine {
                Engine::Vllm => "vllm",
                Engine::Sglang => "sglang",
                Engine::Trtllm => "trtllm",
            };
            k8s_pod_spec(&mut s, 6, plan, container, &leader, p.gpus_per_node, true);
        }
        let _ = writeln!(s, "---");
        let _ = writeln!(s, "apiVersion: v1");
        let _ = writeln!(s, "kind: Service");
        let _ = writeln!(s, "metadata:");
        let _ = writeln!(s, "  name: {name}");
        let _ = writeln!(s, "spec:");
        let _ = writeln!(s, "  selector:");
        let _ = writeln!(s, "    app: {name}");
        if p.nodes_per_instance > 1 {
            let _ = writeln!(s, "    role: leader");
        }
        let _ = writeln!(s, "  ports:");
        let _ = writeln!(s, "    - name: http");
        let _ = writeln!(s, "      port: {}", plan.port);
        let _ = writeln!(s, "      targetPort: {}", plan.port);
    }
    Ok(s)
}

/// llm-d-modelservice's accelerator type for a vendor (values.yaml `accelerator.type`).
fn llm_d_accelerator(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Nvidia => "nvidia",
        Vendor::Amd => "amd",
        Vendor::Intel => "intel-gaudi",
        Vendor::Google => "google",
    }
}

/// Port the engine listens on behind llm-d's routing sidecar (values.yaml
/// `routing.proxy.targetPort`).
const LLM_D_ENGINE_PORT: u16 = 8200;

fn render_llm_d(plan: &LaunchPlan) -> Result<String, LaunchError> {
    if plan.engine == Engine::Trtllm && plan.pools.iter().any(|p| p.nodes_per_instance > 1) {
        return Err(LaunchError::Unsupported(
            "no llm-d values for multi-node TensorRT-LLM (it launches every node from node 0 \
             with mpirun): use --emit trtllm"
                .into(),
        ));
    }
    let disagg = plan.pools.len() > 1;
    let multinode = plan.pools.iter().any(|p| p.nodes_per_instance > 1);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Helm values for llm-d-modelservice (keys of charts/llm-d-modelservice/values.yaml at \
         {LLM_D_CHART_COMMIT}); {} {} on {}; generated by gpuplan",
        plan.engine, plan.engine_version, plan.gpu_name
    );
    for c in &plan.caveats {
        let _ = writeln!(s, "# {c}");
    }
    let _ = writeln!(s, "modelArtifacts:");
    let _ = writeln!(s, "  name: {}", yaml_quote(&plan.model));
    let _ = writeln!(s, "  uri: {}", yaml_quote(&format!("hf://{}", plan.model)));
    let _ = writeln!(s, "  size: {}Gi", plan.model_cache_gib);
    let _ = writeln!(s, "  authSecretName: {HF_SECRET}");
    let _ = writeln!(s, "  mountPath: /model-cache");
    let _ = writeln!(s, "multinode: {multinode}");
    let _ = writeln!(s, "accelerator:");
    let _ = writeln!(s, "  type: {}", llm_d_accelerator(plan.gpu_vendor));
    let _ = writeln!(s, "routing:");
    let _ = writeln!(s, "  servicePort: {}", plan.port);
    let _ = writeln!(s, "  proxy:");
    let _ = writeln!(s, "    enabled: true");
    let _ = writeln!(s, "    targetPort: {LLM_D_ENGINE_PORT}");
    let _ = writeln!(s, "    connector: nixlv2");
    let roles = if disagg {
        vec![Role::Decode, Role::Prefill]
    } else {
        vec![Role::Serve]
    };
    for role in roles {
        let p = plan
            .pools
            .iter()
            .find(|p| p.role == role)
            .expect("pool of the role");
        let key = if role == Role::Prefill {
            "prefill"
        } else {
            "decode"
        };
        // The engine listens on the sidecar's target port.
        let port_swap = |argv: &[String]| -> Vec<String> {
            let mut out = argv.to_vec();
            for i in 1..out.len() {
                if out[i - 1] == "--port" {
                    out[i] = LLM_D_ENGINE_PORT.to_string();
                }
            }
            out
        };
        let leader = port_swap(&p.nodes[0].argv);
        let script = if p.nodes_per_instance > 1 {
            let worker = port_swap(p.worker_template.as_deref().unwrap_or(&p.nodes[0].argv));
            format!(
                "if [ \"${{LWS_WORKER_INDEX:-0}}\" = 0 ]; then {}; else {}; fi",
                pod_script(&leader),
                pod_script(&worker)
            )
        } else {
            pod_script(&leader)
        };
        let _ = writeln!(s, "{key}:");
        let _ = writeln!(s, "  create: true");
        let _ = writeln!(s, "  replicas: {}", p.instances);
        let _ = writeln!(s, "  nodeSelector:");
        let _ = writeln!(
            s,
            "    {}: {}",
            node_label_key(plan.gpu_vendor),
            yaml_quote(&node_label_value(plan))
        );
        let _ = writeln!(s, "  parallelism:");
        let _ = writeln!(s, "    tensor: {}", p.tp);
        let _ = writeln!(s, "    data: {}", p.dp);
        let _ = writeln!(
            s,
            "    dataLocal: {}",
            if p.nodes_per_instance > 1 {
                (p.gpus_per_node / (p.tp * p.pp).max(1)).max(1)
            } else {
                p.dp
            }
        );
        let _ = writeln!(s, "    workers: {}", p.nodes_per_instance);
        let _ = writeln!(s, "  containers:");
        let _ = writeln!(s, "    - name: {}", plan.engine);
        let _ = writeln!(s, "      image: {}", plan.image);
        let _ = writeln!(s, "      modelCommand: custom");
        let _ = writeln!(s, "      command: [\"/bin/sh\", \"-c\"]");
        let _ = writeln!(s, "      args:");
        let _ = writeln!(s, "        - {}", yaml_quote(&script));
        let _ = writeln!(s, "      env:");
        for e in &plan.env {
            let _ = writeln!(s, "        - name: {}", e.name);
            if let Some((secret, key)) = &e.secret {
                let _ = writeln!(s, "          valueFrom:");
                let _ = writeln!(s, "            secretKeyRef:");
                let _ = writeln!(s, "              name: {secret}");
                let _ = writeln!(s, "              key: {key}");
            } else if let Some(v) = &e.value {
                let _ = writeln!(s, "          value: {}", yaml_quote(v));
            }
        }
        if plan.engine == Engine::Vllm && role != Role::Serve {
            let _ = writeln!(s, "        - name: VLLM_NIXL_SIDE_CHANNEL_HOST");
            let _ = writeln!(s, "          valueFrom:");
            let _ = writeln!(s, "            fieldRef:");
            let _ = writeln!(s, "              fieldPath: status.podIP");
        }
        let _ = writeln!(s, "      ports:");
        let _ = writeln!(s, "        - containerPort: {LLM_D_ENGINE_PORT}");
        let _ = writeln!(s, "          protocol: TCP");
        let _ = writeln!(s, "      resources:");
        let _ = writeln!(s, "        limits:");
        let _ = writeln!(
            s,
            "          {}: \"{}\"",
            plan.device_resource, p.gpus_per_node
        );
        let _ = writeln!(s, "        requests:");
        let _ = writeln!(
            s,
            "          {}: \"{}\"",
            plan.device_resource, p.gpus_per_node
        );
        let _ = writeln!(s, "      mountModelVolume: true");
    }
    if !disagg {
        let _ = writeln!(s, "prefill:");
        let _ = writeln!(s, "  create: false");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!("K8S".parse::<EmitTarget>(), Ok(EmitTarget::K8s));
        assert_eq!("llm-d".parse::<EmitTarget>(), Ok(EmitTarget::LlmD));
        assert!("docker".parse::<EmitTarget>().is_err());
        assert_eq!(k8s_name("meta-llama/Llama-3.1-70B"), "llama-3-1-70b");
        assert_eq!(yaml_quote("a\"b"), "\"a\\\"b\"");
        for t in EmitTarget::ALL {
            assert_eq!(t.as_str().parse::<EmitTarget>(), Ok(t));
        }
    }

    #[test]
    fn quantization_is_decided_from_the_checkpoint() {
        use WeightFormat::*;
        // Already quantized checkpoints never get a flag.
        for ckpt in [Int4, Mxfp4, Nvfp4, Fp8Block] {
            for engine in Engine::ALL {
                let q = load_quantization(engine, ckpt, Fp8);
                assert!(
                    matches!(q, Quantization::NeedsCheckpoint { .. }),
                    "{engine} {ckpt}: {q:?}"
                );
                assert!(matches!(
                    load_quantization(engine, ckpt, ckpt),
                    Quantization::AsCheckpoint { .. }
                ));
            }
        }
        assert_eq!(
            load_quantization(Engine::Vllm, Bf16, Fp8),
            Quantization::LoadTime {
                from: Bf16,
                to: Fp8,
                flag_value: "fp8_per_tensor".into()
            }
        );
        assert!(matches!(
            load_quantization(Engine::Vllm, Bf16, Fp8Block),
            Quantization::LoadTime { ref flag_value, .. } if flag_value == "fp8_per_block"
        ));
        assert!(matches!(
            load_quantization(Engine::Sglang, Fp16, Fp8),
            Quantization::LoadTime { ref flag_value, .. } if flag_value == "fp8"
        ));
        assert!(matches!(
            load_quantization(Engine::Trtllm, Bf16, Fp8),
            Quantization::NeedsCheckpoint { .. }
        ));
    }

    #[test]
    fn shell_quoting_keeps_variables() {
        assert_eq!(shell_quote("${LEADER_ADDR}"), "\"${LEADER_ADDR}\"");
        assert_eq!(shell_quote("{\"a\":1}"), "'{\"a\":1}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("--tp-size"), "--tp-size");
    }
}
