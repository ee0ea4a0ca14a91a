//! Launch plans: every emitted vLLM / SGLang command parses with the pinned engine's flag set,
//! quantization flags follow the checkpoint, TensorRT-LLM's options file carries the plan,
//! multi-node and disaggregated plans give one command per node and role, manifests use
//! LeaderWorkerSets and llm-d values follow the chart.

use std::collections::{BTreeMap, BTreeSet};

use gpuplan::core::memory::Engine;
use gpuplan::core::quant::{KvDtype, WeightFormat};
use gpuplan::core::search::ServingMode;
use gpuplan::launch::{shell_line, Role, LLM_D_CHART_COMMIT, SGLANG_VERSION, VLLM_VERSION};
use gpuplan::{
    launch_command, recommend, render, Configuration, EmitTarget, LaunchPlan, RecommendRequest,
};
use serde_json::Value;

/// Flags of the pinned engines (scripts/engine_flags.py).
struct EngineFlags {
    flags: BTreeMap<String, (bool, Option<BTreeSet<String>>)>,
}

fn engine_flags(engine: &str) -> EngineFlags {
    let text = include_str!("data/engine_flags.json");
    let all: Value = serde_json::from_str(text).expect("engine_flags.json");
    let e = &all[engine];
    let version = e["version"].as_str().expect("version");
    match engine {
        "vllm" => assert_eq!(version, VLLM_VERSION),
        _ => assert_eq!(version, SGLANG_VERSION),
    }
    let flags = e["flags"]
        .as_object()
        .expect("flags")
        .iter()
        .map(|(k, v)| {
            let takes = v["takes_value"].as_bool().expect("takes_value");
            let choices = v["choices"].as_array().map(|a| {
                a.iter()
                    .map(|c| c.as_str().expect("choice").to_string())
                    .collect()
            });
            (k.clone(), (takes, choices))
        })
        .collect();
    EngineFlags { flags }
}

impl EngineFlags {
    /// Checks one command line (after its program words) like the engine's argparse would:
    /// every flag known, a value after each flag that takes one, values within the choices.
    fn check(&self, args: &[String]) -> Result<(), String> {
        let mut i = 0;
        while i < args.len() {
            let flag = &args[i];
            let Some((takes, choices)) = self.flags.get(flag.as_str()) else {
                return Err(format!("unknown flag {flag}"));
            };
            if *takes {
                let value = args
                    .get(i + 1)
                    .ok_or_else(|| format!("{flag} needs a value"))?;
                if value.starts_with("--") {
                    return Err(format!("{flag} needs a value, got {value}"));
                }
                if let Some(choices) = choices {
                    if !choices.contains(value) {
                        return Err(format!("{flag} {value}: not one of {choices:?}"));
                    }
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        Ok(())
    }
}

/// Splits a rendered command line back into words (the quoting `shell_line` writes).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '\\' => {
                in_word = true;
                if let Some(d) = chars.next() {
                    cur.push(d);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn plan(c: &Configuration) -> &LaunchPlan {
    c.launch
        .as_ref()
        .unwrap_or_else(|| panic!("no launch plan: {}", c.label()))
}

fn all_configs(rec: &gpuplan::Recommendation) -> Vec<&Configuration> {
    rec.configurations
        .iter()
        .chain(rec.frontier.iter())
        .chain(rec.near_misses.iter().map(|m| &m.configuration))
        .collect()
}

/// Every command line of a rendered engine output (non-comment lines outside heredocs).
fn command_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_heredoc = false;
    for line in text.lines() {
        if in_heredoc {
            in_heredoc = line != "EOF";
            continue;
        }
        if line.starts_with("cat > ") {
            in_heredoc = true;
            continue;
        }
        if !line.starts_with('#') && !line.trim().is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

#[test]
fn every_emitted_vllm_and_sglang_command_parses_with_the_pinned_flags() {
    let flags: BTreeMap<Engine, EngineFlags> = [
        (Engine::Vllm, engine_flags("vllm")),
        (Engine::Sglang, engine_flags("sglang")),
    ]
    .into_iter()
    .collect();
    let models = [
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-405B",
        "deepseek-ai/DeepSeek-R1",
        "moonshotai/Kimi-K2.5",
        "openai/gpt-oss-120b",
        "nvidia/DeepSeek-V3.1-NVFP4",
        "Qwen/Qwen3-30B-A3B",
    ];
    let gpus = ["H100", "MI300X", "B200"];
    let mut checked = 0;
    for model in models {
        for gpu in gpus {
            for mode in [ServingMode::Agg, ServingMode::Disagg] {
                for engine in [Engine::Vllm, Engine::Sglang] {
                    let rec = recommend(
                        &RecommendRequest::new(model)
                            .gpus([gpu])
                            .engine([engine])
                            .mode(mode)
                            .max_gpus(16)
                            .concurrency(32)
                            .top(5),
                    )
                    .expect("valid request");
                    for c in all_configs(&rec) {
                        let p = plan(c);
                        let text = launch_command(EmitTarget::ALL[engine as usize], c)
                            .unwrap_or_else(|e| panic!("{model} {}: {e}", c.label()));
                        let lines = command_lines(&text);
                        let expected: usize = p.pools.iter().map(|p| p.nodes.len()).sum();
                        assert_eq!(lines.len(), expected, "{text}");
                        for (line, node) in lines
                            .iter()
                            .zip(p.pools.iter().flat_map(|p| p.nodes.iter()))
                        {
                            assert_eq!(line, &shell_line(&node.argv));
                            let words = shell_words(line);
                            assert_eq!(words, node.argv, "quoting round trip");
                            flags[&engine].check(&words[3..]).unwrap_or_else(|e| {
                                panic!("{model} on {gpu} {}: {e}\n{line}", c.label())
                            });
                            checked += 1;
                        }
                        for t in [EmitTarget::K8s, EmitTarget::LlmD] {
                            render(t, p).unwrap_or_else(|e| panic!("{t}: {e}"));
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} commands checked");
}

#[test]
fn the_flag_checker_rejects_unknown_flags_and_values() {
    let vllm = engine_flags("vllm");
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    assert!(vllm.check(&words("--tensor-parallel-size 2")).is_ok());
    assert!(vllm.check(&words("--tensor-parallel 2")).is_err());
    assert!(vllm.check(&words("--kv-cache-dtype fp8_e9")).is_err());
    assert!(vllm.check(&words("--quantization fp8_per_tensor")).is_ok());
    assert!(vllm.check(&words("--max-num-seqs")).is_err());
    let sglang = engine_flags("sglang");
    assert!(sglang.check(&words("--tp 2")).is_err(), "abbreviation");
    assert!(sglang.check(&words("--disaggregation-mode both")).is_err());
    assert!(sglang.check(&words("--attn-dp-size 8")).is_ok());
}

fn quant_flags(p: &LaunchPlan) -> Vec<String> {
    p.pools
        .iter()
        .flat_map(|pool| pool.nodes.iter())
        .flat_map(|n| n.argv.windows(2))
        .filter(|w| w[0] == "--quantization")
        .map(|w| w[1].clone())
        .collect()
}

#[test]
fn quantized_checkpoints_get_no_conflicting_quantization_flag() {
    for (model, gpu, engine) in [
        ("moonshotai/Kimi-K2.5", "MI300X", Engine::Vllm),
        ("moonshotai/Kimi-K2.5", "MI300X", Engine::Sglang),
        ("openai/gpt-oss-120b", "H100", Engine::Sglang),
        ("openai/gpt-oss-120b", "H100", Engine::Vllm),
        ("nvidia/DeepSeek-V3.1-NVFP4", "B200", Engine::Vllm),
        ("nvidia/DeepSeek-V3.1-NVFP4", "B200", Engine::Sglang),
        ("deepseek-ai/DeepSeek-R1", "H200", Engine::Vllm),
        ("deepseek-ai/DeepSeek-R1", "H200", Engine::Sglang),
    ] {
        let rec = recommend(
            &RecommendRequest::new(model)
                .gpus([gpu])
                .engine([engine])
                .allow_quant([WeightFormat::Fp8, WeightFormat::Nvfp4])
                .top(20),
        )
        .expect("valid request");
        assert!(!rec.configurations.is_empty(), "{model} on {gpu}");
        for c in all_configs(&rec) {
            let p = plan(c);
            assert_eq!(
                quant_flags(p),
                Vec::<String>::new(),
                "{model} {}",
                c.label()
            );
            if c.requantized {
                assert!(
                    p.caveats
                        .iter()
                        .any(|s| s.contains("checkpoint quantized to")),
                    "{model} {}: {:?}",
                    c.label(),
                    p.caveats
                );
            }
        }
    }
}

#[test]
fn bf16_checkpoints_planned_at_fp8_get_the_engines_load_time_spelling() {
    for (engine, spelling) in [(Engine::Vllm, "fp8_per_tensor"), (Engine::Sglang, "fp8")] {
        let rec = recommend(
            &RecommendRequest::new("meta-llama/Llama-3.1-70B")
                .gpus(["H100"])
                .engine([engine])
                .allow_quant([WeightFormat::Fp8])
                .concurrency(8)
                .top(50),
        )
        .expect("valid request");
        let fp8 = rec
            .configurations
            .iter()
            .find(|c| c.weight_quant == WeightFormat::Fp8)
            .expect("an fp8 configuration");
        assert_eq!(quant_flags(plan(fp8)), vec![spelling.to_string()]);
        let bf16 = rec
            .configurations
            .iter()
            .find(|c| c.weight_quant == WeightFormat::Bf16)
            .expect("a bf16 configuration");
        assert!(quant_flags(plan(bf16)).is_empty());
    }
}

#[test]
fn trtllm_writes_its_options_file_with_kv_dtype_attention_dp_and_batch_limits() {
    let rec = recommend(
        &RecommendRequest::new("deepseek-ai/DeepSeek-R1")
            .gpus(["H200"])
            .engine([Engine::Trtllm])
            .concurrency(64)
            .top(200),
    )
    .expect("valid request");
    let c = rec
        .configurations
        .iter()
        .find(|c| c.dp > 1 && c.kv_dtype == KvDtype::Fp8)
        .unwrap_or_else(|| panic!("no attention-DP fp8-KV configuration\n{}", rec.summary()));
    let text = launch_command(EmitTarget::Trtllm, c).expect("trtllm");
    let p = plan(c);
    let file = &p.files[0];
    assert!(
        file.contents.contains("enable_attention_dp: true"),
        "{text}"
    );
    assert!(
        file.contents.contains("kv_cache_config:\n  dtype: fp8"),
        "{text}"
    );
    assert!(file.contents.contains("max_batch_size: 2048"), "{text}");
    assert!(
        text.contains(&format!("cat > {} <<'EOF'", file.path)),
        "{text}"
    );
    assert!(text.contains(&format!("--extra_llm_api_options {}", file.path)));
    assert!(text.contains(&format!("--tp_size {}", c.tp * c.dp)));
    // Not planned where TensorRT-LLM does not run.
    for gpu in ["MI300X", "gaudi3", "tpu_v5e"] {
        let rec = recommend(
            &RecommendRequest::new("meta-llama/Llama-3.1-8B")
                .gpus([gpu])
                .engine([Engine::Trtllm]),
        )
        .expect("valid request");
        assert!(rec.configurations.is_empty(), "{gpu}: {}", rec.summary());
        assert!(
            rec.notes
                .iter()
                .any(|n| n.contains("trtllm does not run on")),
            "{:?}",
            rec.notes
        );
    }
}

#[test]
fn deepseek_r1_on_16_h100_runs_on_two_nodes() {
    for engine in [Engine::Vllm, Engine::Sglang] {
        let rec = recommend(
            &RecommendRequest::new("deepseek-ai/DeepSeek-R1")
                .gpus(["H100"])
                .engine([engine])
                .max_gpus(16)
                .top(50),
        )
        .expect("valid request");
        let c = rec
            .configurations
            .iter()
            .find(|c| c.gpus_per_replica == 16)
            .unwrap_or_else(|| panic!("no 16-GPU configuration\n{}", rec.summary()));
        let p = plan(c);
        assert_eq!(p.pools.len(), 1);
        let pool = &p.pools[0];
        assert_eq!(pool.nodes_per_instance, 2);
        assert_eq!(pool.gpus_per_node, 8);
        assert_eq!(pool.nodes.len(), 2);
        let text = launch_command(EmitTarget::ALL[engine as usize], c).expect("engine");
        assert_eq!(command_lines(&text).len(), 2, "{text}");
        let worker = &pool.nodes[1].argv;
        match engine {
            Engine::Vllm if c.dp > 1 => {
                assert!(worker.contains(&"--headless".to_string()));
                assert!(worker.contains(&"--data-parallel-address".to_string()));
                assert!(worker.windows(2).any(
                    |w| w[0] == "--data-parallel-start-rank" && w[1] == (c.dp / 2).to_string()
                ));
            }
            Engine::Vllm => {
                assert!(worker
                    .windows(2)
                    .any(|w| w[0] == "--node-rank" && w[1] == "1"));
            }
            _ => {
                assert!(worker
                    .windows(2)
                    .any(|w| w[0] == "--node-rank" && w[1] == "1"));
                assert!(worker.windows(2).any(|w| w[0] == "--nnodes" && w[1] == "2"));
                assert!(worker.contains(&"--dist-init-addr".to_string()));
            }
        }
        let k8s = launch_command(EmitTarget::K8s, c).expect("k8s");
        assert!(k8s.contains("kind: LeaderWorkerSet"), "{k8s}");
        assert!(k8s.contains("    size: 2"), "{k8s}");
        assert!(!k8s.contains("kind: Deployment"), "{k8s}");
        assert!(!k8s.contains("nvidia.com/gpu: 16"), "{k8s}");
        assert!(k8s.contains("nvidia.com/gpu: 8"), "{k8s}");
        assert!(k8s.contains("LWS_LEADER_ADDRESS"), "{k8s}");
        assert!(k8s.contains("LWS_WORKER_INDEX"), "{k8s}");
        k8s_sanity(&k8s);
    }
}

/// Every manifest a platform engineer expects: served name, port and probe, the HF token from
/// a secret, a model cache, a node selector, the vendor's device and image.
fn k8s_sanity(yaml: &str) {
    assert!(!yaml.contains('\t'));
    for needle in [
        "--served-model-name",
        "readinessProbe:",
        "secretKeyRef:",
        "name: hf-token",
        "claimName:",
        "nodeSelector:",
        "kind: Service",
        "kind: PersistentVolumeClaim",
    ] {
        assert!(yaml.contains(needle), "{needle} missing:\n{yaml}");
    }
    for line in yaml.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let t = line.trim_start();
        assert!(
            t == "---" || t.starts_with("- ") || t.contains(": ") || t.ends_with(':'),
            "odd YAML line: {line}"
        );
        assert_eq!((line.len() - t.len()) % 2, 0, "odd indentation: {line}");
    }
}

#[test]
fn manifests_use_the_vendors_device_and_image() {
    for (gpu, resource, image) in [
        ("H100", "nvidia.com/gpu", "vllm/vllm-openai"),
        ("MI300X", "amd.com/gpu", "rocm/vllm"),
        ("gaudi3", "habana.ai/gaudi", "vllm-gaudi"),
        ("tpu_v5e", "google.com/tpu", "vllm/vllm-tpu"),
    ] {
        let rec = recommend(
            &RecommendRequest::new("meta-llama/Llama-3.1-8B")
                .gpus([gpu])
                .emit(EmitTarget::K8s),
        )
        .expect("valid request");
        let yaml = rec.launch.expect("manifest");
        assert!(yaml.contains(resource), "{gpu}: {yaml}");
        assert!(yaml.contains(image), "{gpu}: {yaml}");
        k8s_sanity(&yaml);
    }
}

#[test]
fn disaggregated_plans_emit_both_pools_with_the_kv_connector() {
    for engine in [Engine::Vllm, Engine::Sglang] {
        let rec = recommend(
            &RecommendRequest::new("meta-llama/Llama-3.1-70B")
                .gpus(["H100"])
                .engine([engine])
                .mode(ServingMode::Disagg)
                .concurrency(64)
                .top(3),
        )
        .expect("valid request");
        let c = rec
            .configurations
            .first()
            .unwrap_or_else(|| panic!("nothing disaggregated\n{}", rec.summary()));
        let p = plan(c);
        let roles: Vec<Role> = p.pools.iter().map(|p| p.role).collect();
        assert_eq!(roles, vec![Role::Prefill, Role::Decode]);
        let d = c.disagg.as_ref().expect("disagg layout");
        assert_eq!(p.pools[0].instances, d.prefill_instances * c.replicas);
        assert_eq!(p.pools[1].instances, d.decode_instances * c.replicas);
        assert_eq!(p.pools[0].tp, d.prefill_tp);
        let text = launch_command(EmitTarget::ALL[engine as usize], c).expect("engine");
        match engine {
            Engine::Vllm => {
                assert_eq!(text.matches("--kv-transfer-config").count(), 2, "{text}");
                assert!(text.contains("NixlConnector"));
            }
            _ => {
                assert!(text.contains("--disaggregation-mode prefill"), "{text}");
                assert!(text.contains("--disaggregation-mode decode"), "{text}");
                assert_eq!(
                    text.matches("--disaggregation-transfer-backend nixl")
                        .count(),
                    2
                );
            }
        }
        let k8s = launch_command(EmitTarget::K8s, c).expect("k8s");
        assert!(k8s.contains("name: llama-3-1-70b-prefill"), "{k8s}");
        assert!(k8s.contains("name: llama-3-1-70b-decode"), "{k8s}");
        k8s_sanity(&k8s);
        let values = launch_command(EmitTarget::LlmD, c).expect("llm-d");
        assert!(values.contains("prefill:\n  create: true"), "{values}");
        assert!(values.contains("decode:\n  create: true"), "{values}");
        assert!(values.contains("connector: nixlv2"));
        assert!(values.contains(if engine == Engine::Vllm {
            "--kv-transfer-config"
        } else {
            "--disaggregation-mode"
        }));
        check_llm_d_keys(&values);
    }
}

/// The key paths of llm-d-modelservice's values.yaml that `--emit llm-d` writes (read from
/// charts/llm-d-modelservice/values.yaml at the commit named in LLM_D_CHART_COMMIT); maps
/// whose keys are free (node selectors, resources) end in `*`.
const LLM_D_KEYS: &[&str] = &[
    "modelArtifacts",
    "modelArtifacts.name",
    "modelArtifacts.uri",
    "modelArtifacts.size",
    "modelArtifacts.authSecretName",
    "modelArtifacts.mountPath",
    "multinode",
    "accelerator",
    "accelerator.type",
    "routing",
    "routing.servicePort",
    "routing.proxy",
    "routing.proxy.enabled",
    "routing.proxy.targetPort",
    "routing.proxy.connector",
    "POOL",
    "POOL.create",
    "POOL.replicas",
    "POOL.nodeSelector",
    "POOL.nodeSelector.*",
    "POOL.parallelism",
    "POOL.parallelism.tensor",
    "POOL.parallelism.data",
    "POOL.parallelism.dataLocal",
    "POOL.parallelism.workers",
    "POOL.containers",
    "POOL.containers.name",
    "POOL.containers.image",
    "POOL.containers.modelCommand",
    "POOL.containers.command",
    "POOL.containers.args",
    "POOL.containers.env",
    "POOL.containers.ports",
    "POOL.containers.resources",
    "POOL.containers.resources.limits",
    "POOL.containers.resources.limits.*",
    "POOL.containers.resources.requests",
    "POOL.containers.resources.requests.*",
    "POOL.containers.mountModelVolume",
];

fn check_llm_d_keys(values: &str) {
    assert_eq!(LLM_D_CHART_COMMIT.len(), 40);
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut seen = 0;
    for line in values.lines() {
        let t = line.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let indent = line.len() - t.len();
        // List items: "- key: v" opens an item whose keys sit two columns further in.
        let (indent, t) = match t.strip_prefix("- ") {
            Some(rest) => (indent + 2, rest),
            None => (indent, t),
        };
        let Some((key, _)) = t.split_once(':') else {
            continue;
        };
        if key.contains(' ') || key.starts_with('"') || key.starts_with('-') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let parent = stack.last().map(|(_, p)| p.clone());
        // Entries of env / ports lists are Kubernetes objects, not chart keys.
        if parent
            .as_deref()
            .is_some_and(|p| p.ends_with(".env") || p.ends_with(".ports") || p.ends_with('*'))
        {
            continue;
        }
        let path = match &parent {
            None if key == "prefill" || key == "decode" => "POOL".to_string(),
            None => key.to_string(),
            Some(p) => format!("{p}.{key}"),
        };
        let known = LLM_D_KEYS.contains(&path.as_str()) || {
            let star = format!("{}.*", parent.clone().unwrap_or_default());
            LLM_D_KEYS.contains(&star.as_str())
        };
        assert!(
            known,
            "llm-d values key {path} is not in the chart's values.yaml"
        );
        let path = if LLM_D_KEYS.contains(&path.as_str()) {
            path
        } else {
            format!("{}.*", parent.unwrap_or_default())
        };
        stack.push((indent, path));
        seen += 1;
    }
    assert!(seen > 20, "{values}");
}

#[test]
fn planned_memory_fraction_and_batch_limits_reach_every_engine() {
    for (engine, needles) in [
        (
            Engine::Vllm,
            vec!["--gpu-memory-utilization 0.8", "--max-num-seqs 1024"],
        ),
        (
            Engine::Sglang,
            vec!["--mem-fraction-static 0.8", "--max-running-requests"],
        ),
        (
            Engine::Trtllm,
            vec![
                "--kv_cache_free_gpu_memory_fraction 0.8",
                "--max_batch_size 2048",
            ],
        ),
    ] {
        let mut request = RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .engine([engine])
            .emit(EmitTarget::ALL[engine as usize]);
        request.gpu_memory_utilization = 0.8;
        let rec = recommend(&request).expect("valid request");
        let text = rec.launch.expect("launch");
        for n in needles {
            assert!(text.contains(n), "{engine}: {n} missing\n{text}");
        }
        assert!(!text.contains(" 0.9"), "{text}");
    }
}

#[test]
fn emitting_for_an_engine_not_planned_is_refused() {
    let err = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .engine([Engine::Vllm])
            .emit(EmitTarget::Sglang),
    )
    .expect_err("sglang was not planned");
    assert!(err.to_string().contains("--engine sglang"), "{err}");
    // With both engines planned, --emit sglang renders the best SGLang configuration.
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .engine([Engine::Vllm, Engine::Sglang])
            .top(50)
            .emit(EmitTarget::Sglang),
    )
    .expect("valid request");
    let best_sglang = rec
        .configurations
        .iter()
        .find(|c| c.engine == "sglang")
        .expect("an sglang configuration");
    assert_eq!(
        rec.launch.as_deref(),
        Some(
            launch_command(EmitTarget::Sglang, best_sglang)
                .unwrap()
                .as_str()
        )
    );
}

#[test]
fn llama_405b_tp8_pp2_spans_two_nodes_with_node_ranks() {
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-405B")
            .gpus(["H100"])
            .allow_quant([])
            .max_gpus(16)
            .estimate_performance(false)
            .top(100),
    )
    .expect("valid request");
    let c = rec
        .configurations
        .iter()
        .find(|c| c.tp == 8 && c.pp == 2 && c.dp == 1)
        .unwrap_or_else(|| panic!("no tp8 pp2 configuration\n{}", rec.summary()));
    let p = plan(c);
    let pool = &p.pools[0];
    assert_eq!((pool.nodes_per_instance, pool.gpus_per_node), (2, 8));
    for (rank, node) in pool.nodes.iter().enumerate() {
        let a = &node.argv;
        assert!(a.windows(2).any(|w| w[0] == "--nnodes" && w[1] == "2"));
        assert!(a
            .windows(2)
            .any(|w| w[0] == "--node-rank" && w[1] == rank.to_string()));
        assert!(a
            .windows(2)
            .any(|w| w[0] == "--master-addr" && w[1] == "${LEADER_ADDR}"));
        assert_eq!(a.contains(&"--headless".to_string()), rank > 0);
    }
    let k8s = launch_command(EmitTarget::K8s, c).expect("k8s");
    assert!(k8s.contains("kind: LeaderWorkerSet"));
    assert!(
        k8s.contains("--node-rank \\\"${LWS_WORKER_INDEX}\\\""),
        "{k8s}"
    );
    let values = launch_command(EmitTarget::LlmD, c).expect("llm-d");
    assert!(values.contains("multinode: true"));
    assert!(values.contains("workers: 2"));
    check_llm_d_keys(&values);
}
