//! Architecture facts of catalog models: KV-cache bytes, attention families, MoE and MLA shapes.

use gpuplan_catalog::find_model;
use gpuplan_core::model::{Architecture, AttentionKind};
use gpuplan_core::quant::{KvDtype, WeightFormat};

fn arch(id: &str) -> Architecture {
    find_model(id)
        .unwrap_or_else(|| panic!("{id} not in catalog"))
        .architecture()
        .expect("parses")
}

#[test]
fn kv_bytes_per_token_at_bf16() {
    for (id, want) in [
        ("meta-llama/Llama-3.1-8B", 131072.0),
        ("meta-llama/Llama-3.1-70B", 327680.0),
        ("Qwen/Qwen3-32B", 262144.0),
        // MLA: 61 layers x (512 + 64) x 2 bytes.
        ("deepseek-ai/DeepSeek-V3", 70272.0),
        ("mistralai/Mixtral-8x7B-v0.1", 131072.0),
    ] {
        let a = arch(id);
        assert_eq!(a.kv_cache_bytes_per_token(16, KvDtype::Bf16), want, "{id}");
        assert_eq!(
            a.kv_cache_bytes_per_token_growing(KvDtype::Bf16),
            want,
            "{id}"
        );
        assert_eq!(
            a.kv_cache_bytes_per_token(16, KvDtype::Fp8),
            want / 2.0,
            "{id}"
        );
    }
}

#[test]
fn gpt_oss_sliding_layers_hold_at_most_128_tokens() {
    let a = arch("openai/gpt-oss-120b");
    let per_layer = 2.0 * 8.0 * 64.0 * 2.0; // K and V, 8 KV heads, head_dim 64, bf16
                                            // 18 full + 18 sliding layers.
    assert_eq!(
        a.kv_cache_bytes_per_token(100, KvDtype::Bf16),
        36.0 * per_layer
    );
    assert_eq!(
        a.kv_cache_bytes_per_token_growing(KvDtype::Bf16),
        18.0 * per_layer
    );
    let seq = a.kv_cache_bytes_per_sequence(10_000, KvDtype::Bf16);
    assert_eq!(seq, 18.0 * per_layer * 10_000.0 + 18.0 * per_layer * 128.0);
    assert!(a.notes.is_empty() || !a.notes.is_empty());
    assert_eq!(a.precision.routed_experts, WeightFormat::Mxfp4);
    assert_eq!(a.precision.attention, WeightFormat::Bf16);
}

#[test]
fn nemotron_h_counts_only_attention_layers() {
    let a = arch("nvidia/Nemotron-H-56B-Base-8K");
    assert_eq!(a.attention, AttentionKind::Hybrid);
    assert_eq!(a.num_attention_layers(), 10);
    let per_layer = 2.0 * 8.0 * 128.0 * 2.0;
    assert_eq!(
        a.kv_cache_bytes_per_token_growing(KvDtype::Bf16),
        10.0 * per_layer
    );
    assert!(a.state_bytes_per_sequence() > 0.0);
    // The fixed Mamba state is per sequence, not per token.
    let s1 = a.kv_cache_bytes_per_sequence(1000, KvDtype::Bf16);
    let s2 = a.kv_cache_bytes_per_sequence(2000, KvDtype::Bf16);
    assert!((s2 - s1 - 1000.0 * 10.0 * per_layer).abs() < 1e-6);
}

#[test]
fn families_and_shapes() {
    let l = arch("meta-llama/Llama-3.1-8B");
    assert_eq!(l.attention, AttentionKind::Gqa);
    assert!(!l.is_moe());
    assert_eq!(l.num_layers(), 32);
    assert_eq!(l.params().total, 8_030_261_248);
    assert_eq!(l.weight_bytes(), 2.0 * 8_030_261_248.0);

    let d = arch("deepseek-ai/DeepSeek-V3");
    assert_eq!(d.attention, AttentionKind::Mla);
    assert_eq!(d.num_experts(), 256);
    assert_eq!(d.experts_per_token(), 8);
    assert_eq!(d.precision.routed_experts, WeightFormat::Fp8Block);
    assert!(d.mtp_params > 10_000_000_000);

    let m = arch("mistralai/Mixtral-8x7B-v0.1");
    assert_eq!((m.num_experts(), m.experts_per_token()), (8, 2));

    let g = arch("google/gemma-2-9b");
    assert!(g.tie_word_embeddings);
    assert_eq!(g.params().lm_head, 0);

    let q = arch("Qwen/Qwen3.5-397B-A17B");
    assert_eq!(q.attention, AttentionKind::Hybrid);
    assert_eq!(q.num_attention_layers(), 15);

    // Multimodal: the language model is read from text_config.
    let vl = arch("Qwen/Qwen3-VL-8B-Instruct");
    assert!(vl.has_vision_tower);
    assert_eq!(vl.hidden_size, 4096);

    // ModelOpt NVFP4 checkpoint: experts in nvfp4, fp8 KV recommended.
    let n = arch("nvidia/DeepSeek-V3.1-NVFP4");
    assert_eq!(n.precision.routed_experts, WeightFormat::Nvfp4);
    assert_eq!(n.checkpoint_kv_dtype, Some(KvDtype::Fp8));
    assert!(n.weight_bytes() < d.weight_bytes() * 0.6);
}

#[test]
fn weight_override_changes_bytes() {
    let a = arch("meta-llama/Llama-3.1-70B");
    let fp8 = a.with_weight_format(WeightFormat::Fp8);
    let ratio = fp8.weight_bytes() / a.weight_bytes();
    assert!(ratio > 0.5 && ratio < 0.53, "{ratio}");
    let fp4 = a.with_weight_format(WeightFormat::Nvfp4);
    assert!(fp4.weight_bytes() < fp8.weight_bytes());
}
