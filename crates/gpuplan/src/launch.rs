//! Launch commands for a chosen configuration: `vllm serve`, SGLang, `trtllm-serve`, or a
//! Kubernetes Deployment manifest running the vLLM OpenAI server.
//!
//! ```
//! use gpuplan::{launch_command, recommend, EmitTarget, RecommendRequest};
//!
//! let rec = recommend(&RecommendRequest::new("meta-llama/Llama-3.1-8B").gpus(["H100"]))?;
//! let cmd = launch_command(EmitTarget::Vllm, "meta-llama/Llama-3.1-8B", &rec.configurations[0]);
//! assert!(cmd.starts_with("vllm serve meta-llama/Llama-3.1-8B"));
//! # Ok::<(), gpuplan::Error>(())
//! ```

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use gpuplan_core::hardware::Vendor;
use gpuplan_core::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};

use crate::recommend::Configuration;

/// What `--emit` renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmitTarget {
    /// `vllm serve ...`.
    Vllm,
    /// `python -m sglang.launch_server ...`.
    Sglang,
    /// `trtllm-serve ...`.
    Trtllm,
    /// A Kubernetes Deployment manifest (YAML) running the vLLM OpenAI server.
    K8s,
}

impl EmitTarget {
    /// Canonical name (`vllm`, `sglang`, `trtllm`, `k8s`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmitTarget::Vllm => "vllm",
            EmitTarget::Sglang => "sglang",
            EmitTarget::Trtllm => "trtllm",
            EmitTarget::K8s => "k8s",
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
            other => Err(format!(
                "unknown emit target '{other}'; expected vllm, sglang, trtllm or k8s"
            )),
        }
    }
}

/// The `--quantization` value for weights the engine quantizes at load time, if it can.
fn online_quantization(cfg: &Configuration) -> Option<&'static str> {
    if !cfg.requantized {
        return None;
    }
    match cfg.weight_quant {
        WeightFormat::Fp8 | WeightFormat::Fp8Block => Some("fp8"),
        _ => None,
    }
}

/// A comment line for what the command alone cannot express.
fn caveats(cfg: &Configuration, prefix: &str) -> String {
    let mut s = String::new();
    if cfg.requantized && online_quantization(cfg).is_none() {
        let _ = writeln!(
            s,
            "{prefix} needs a checkpoint already quantized to {} (engines cannot quantize it at load time)",
            cfg.weight_quant
        );
    }
    if cfg.replicas > 1 {
        let _ = writeln!(
            s,
            "{prefix} run {} replicas of this command behind a load balancer",
            cfg.replicas
        );
    }
    if let Some(d) = &cfg.disagg {
        let _ = writeln!(
            s,
            "{prefix} disaggregated: {} prefill instance(s) (tp {} pp {} dp {} ep {}) and {} decode instance(s) of the command below, connected by a KV connector (llm-d / Dynamo / NIXL)",
            d.prefill_instances,
            d.prefill_tp,
            d.prefill_pp,
            d.prefill_dp,
            d.prefill_ep,
            d.decode_instances
        );
    }
    s
}

/// The launch command (or manifest) for `cfg` serving `model`.
pub fn launch_command(target: EmitTarget, model: &str, cfg: &Configuration) -> String {
    match target {
        EmitTarget::Vllm => format!("{}{}", caveats(cfg, "#"), vllm_command(model, cfg)),
        EmitTarget::Sglang => format!("{}{}", caveats(cfg, "#"), sglang_command(model, cfg)),
        EmitTarget::Trtllm => format!("{}{}", caveats(cfg, "#"), trtllm_command(model, cfg)),
        EmitTarget::K8s => k8s_manifest(model, cfg),
    }
}

/// The `vllm serve` arguments after the model, one flag and value per element.
fn vllm_args(cfg: &Configuration) -> Vec<String> {
    let mut a = vec![
        "--tensor-parallel-size".to_string(),
        cfg.tp.to_string(),
        "--pipeline-parallel-size".into(),
        cfg.pp.to_string(),
        "--max-model-len".into(),
        cfg.max_model_len.to_string(),
        "--gpu-memory-utilization".into(),
        "0.9".into(),
    ];
    if cfg.kv_dtype == KvDtype::Fp8 {
        a.extend(["--kv-cache-dtype".into(), "fp8".into()]);
    }
    if cfg.dp > 1 {
        a.extend(["--data-parallel-size".into(), cfg.dp.to_string()]);
    }
    if cfg.ep > 1 {
        a.push("--enable-expert-parallel".into());
    }
    if let Some(q) = online_quantization(cfg) {
        a.extend(["--quantization".into(), q.into()]);
    }
    a
}

fn vllm_command(model: &str, cfg: &Configuration) -> String {
    format!("vllm serve {model} {}", vllm_args(cfg).join(" "))
}

fn sglang_command(model: &str, cfg: &Configuration) -> String {
    // SGLang's --tp counts every GPU of the instance; attention DP splits it.
    let mut s = format!(
        "python -m sglang.launch_server --model-path {model} --tp {} --context-length {} --mem-fraction-static 0.9",
        cfg.tp * cfg.dp,
        cfg.max_model_len
    );
    if cfg.pp > 1 {
        let _ = write!(s, " --pp-size {}", cfg.pp);
    }
    if cfg.dp > 1 {
        let _ = write!(s, " --dp {} --enable-dp-attention", cfg.dp);
    }
    if cfg.ep > 1 {
        let _ = write!(s, " --ep-size {}", cfg.ep);
    }
    if cfg.kv_dtype == KvDtype::Fp8 {
        s.push_str(" --kv-cache-dtype fp8_e4m3");
    }
    if let Some(q) = online_quantization(cfg) {
        let _ = write!(s, " --quantization {q}");
    }
    s
}

fn trtllm_command(model: &str, cfg: &Configuration) -> String {
    let mut s = format!(
        "trtllm-serve {model} --tp_size {} --pp_size {} --ep_size {} --max_seq_len {} --kv_cache_free_gpu_memory_fraction 0.9",
        cfg.tp * cfg.dp,
        cfg.pp,
        cfg.ep,
        cfg.max_model_len
    );
    if cfg.dp > 1 {
        // Attention DP is set in the LLM API options file, not by a flag.
        s.push_str(" --extra_llm_api_options extra.yaml  # extra.yaml: enable_attention_dp: true");
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
    name.truncate(50);
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

/// A Kubernetes Deployment running `vllm serve` with the configuration's GPUs per pod.
fn k8s_manifest(model: &str, cfg: &Configuration) -> String {
    let name = k8s_name(model);
    let gpus_per_pod = cfg.tp * cfg.pp * cfg.dp;
    let resource = match cfg.gpu_vendor {
        Vendor::Amd => "amd.com/gpu",
        Vendor::Intel => "habana.ai/gaudi",
        Vendor::Google => "google.com/tpu",
        Vendor::Nvidia => "nvidia.com/gpu",
    };
    let image = match cfg.gpu_vendor {
        Vendor::Amd => "rocm/vllm:latest",
        _ => "vllm/vllm-openai:latest",
    };
    let mut s = String::new();
    s.push_str(&caveats(cfg, "#"));
    let _ = writeln!(
        s,
        "# {} on {} x {} per pod, {} replica(s); generated by gpuplan",
        model, gpus_per_pod, cfg.gpu_name, cfg.replicas
    );
    let replicas = if cfg.disagg.is_some() {
        cfg.disagg.as_ref().map_or(1, |d| d.decode_instances) * cfg.replicas
    } else {
        cfg.replicas
    };
    let _ = writeln!(s, "apiVersion: apps/v1");
    let _ = writeln!(s, "kind: Deployment");
    let _ = writeln!(s, "metadata:");
    let _ = writeln!(s, "  name: {name}");
    let _ = writeln!(s, "  labels:");
    let _ = writeln!(s, "    app: {name}");
    let _ = writeln!(s, "spec:");
    let _ = writeln!(s, "  replicas: {replicas}");
    let _ = writeln!(s, "  selector:");
    let _ = writeln!(s, "    matchLabels:");
    let _ = writeln!(s, "      app: {name}");
    let _ = writeln!(s, "  template:");
    let _ = writeln!(s, "    metadata:");
    let _ = writeln!(s, "      labels:");
    let _ = writeln!(s, "        app: {name}");
    let _ = writeln!(s, "    spec:");
    let _ = writeln!(s, "      containers:");
    let _ = writeln!(s, "        - name: vllm");
    let _ = writeln!(s, "          image: {image}");
    let _ = writeln!(s, "          command: [\"vllm\", \"serve\"]");
    let _ = writeln!(s, "          args:");
    let _ = writeln!(s, "            - {}", yaml_quote(model));
    for a in vllm_args(cfg) {
        let _ = writeln!(s, "            - {}", yaml_quote(&a));
    }
    let _ = writeln!(s, "          ports:");
    let _ = writeln!(s, "            - containerPort: 8000");
    let _ = writeln!(s, "          resources:");
    let _ = writeln!(s, "            limits:");
    let _ = writeln!(s, "              {resource}: {gpus_per_pod}");
    let _ = writeln!(s, "          volumeMounts:");
    let _ = writeln!(s, "            - name: shm");
    let _ = writeln!(s, "              mountPath: /dev/shm");
    let _ = writeln!(s, "      volumes:");
    let _ = writeln!(s, "        - name: shm");
    let _ = writeln!(s, "          emptyDir:");
    let _ = writeln!(s, "            medium: Memory");
    let _ = writeln!(s, "            sizeLimit: 16Gi");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!("K8S".parse::<EmitTarget>(), Ok(EmitTarget::K8s));
        assert!("docker".parse::<EmitTarget>().is_err());
        assert_eq!(k8s_name("meta-llama/Llama-3.1-70B"), "llama-3-1-70b");
        assert_eq!(yaml_quote("a\"b"), "\"a\\\"b\"");
    }
}
