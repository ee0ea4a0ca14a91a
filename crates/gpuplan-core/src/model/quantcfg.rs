//! Reading a checkpoint's weight precision from `torch_dtype`, `quantization_config` and a
//! ModelOpt `hf_quant_config.json`.

use super::TensorClass;
use crate::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Storage format per tensor class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightPrecision {
    /// Input embedding.
    pub embedding: WeightFormat,
    /// LM head.
    pub lm_head: WeightFormat,
    /// Attention / mixer projections.
    pub attention: WeightFormat,
    /// Dense MLPs.
    pub dense_mlp: WeightFormat,
    /// Routed experts.
    pub routed_experts: WeightFormat,
    /// Shared experts.
    pub shared_experts: WeightFormat,
    /// Router.
    pub router: WeightFormat,
    /// Norms and biases.
    pub norm: WeightFormat,
}

impl WeightPrecision {
    /// Everything in one 16-bit (or 32-bit) dtype.
    pub fn unquantized(base: WeightFormat) -> Self {
        WeightPrecision {
            embedding: base,
            lm_head: base,
            attention: base,
            dense_mlp: base,
            routed_experts: base,
            shared_experts: base,
            router: base,
            norm: base,
        }
    }

    /// Every quantizable linear layer in `format`; embeddings, router and norms in bf16, the LM
    /// head in bf16 unless the format is 8-bit (engines keep 4-bit checkpoints' heads in 16 bits).
    pub fn uniform(format: WeightFormat) -> Self {
        let keep = match format {
            WeightFormat::F32 => WeightFormat::F32,
            WeightFormat::Fp16 => WeightFormat::Fp16,
            _ => WeightFormat::Bf16,
        };
        WeightPrecision {
            embedding: keep,
            lm_head: if format.is_4bit() { keep } else { format },
            attention: format,
            dense_mlp: format,
            routed_experts: format,
            shared_experts: format,
            router: keep,
            norm: keep,
        }
    }

    /// Format of one tensor class.
    pub fn get(&self, class: TensorClass) -> WeightFormat {
        match class {
            TensorClass::Embedding => self.embedding,
            TensorClass::LmHead => self.lm_head,
            TensorClass::Attention => self.attention,
            TensorClass::DenseMlp => self.dense_mlp,
            TensorClass::RoutedExperts => self.routed_experts,
            TensorClass::SharedExperts => self.shared_experts,
            TensorClass::Router => self.router,
            TensorClass::Norm => self.norm,
        }
    }

    fn set(&mut self, class: TensorClass, f: WeightFormat) {
        match class {
            TensorClass::Embedding => self.embedding = f,
            TensorClass::LmHead => self.lm_head = f,
            TensorClass::Attention => self.attention = f,
            TensorClass::DenseMlp => self.dense_mlp = f,
            TensorClass::RoutedExperts => self.routed_experts = f,
            TensorClass::SharedExperts => self.shared_experts = f,
            TensorClass::Router => self.router = f,
            TensorClass::Norm => self.norm = f,
        }
    }

    /// The format of the bulk of the weights: the routed experts for MoE models, else the MLP.
    pub fn headline(&self, is_moe: bool) -> WeightFormat {
        if is_moe {
            self.routed_experts
        } else {
            self.dense_mlp
        }
    }
}

/// Which tensor classes a module-name pattern (from an ignore / exclude list) refers to.
fn classes_of_pattern(p: &str) -> Vec<TensorClass> {
    let p = p.to_ascii_lowercase();
    let mut v = Vec::new();
    if p.contains("lm_head") || p == "head" || p.ends_with(".head") {
        v.push(TensorClass::LmHead);
    }
    if p.contains("embed") {
        v.push(TensorClass::Embedding);
    }
    if p.contains("attn")
        || p.contains("attention")
        || p.contains("mixer.in_proj")
        || p.contains("mixer.out_proj")
        || p.contains("mixer.q_proj")
        || p.contains("mixer.k_proj")
        || p.contains("mixer.v_proj")
        || p.contains("mixer.o_proj")
        || p.contains("indexer")
    {
        v.push(TensorClass::Attention);
    }
    if p.contains("shared_expert") {
        v.push(TensorClass::SharedExperts);
    } else if p.contains("mlp.(gate|up")
        || p.contains("mlp\\.(gate|up")
        || (p.contains(".mlp.") && p.contains("_proj") && !p.contains("expert"))
    {
        v.push(TensorClass::DenseMlp);
    }
    if p.ends_with(".gate") || p.contains("router") || p.ends_with("mlp.gate") {
        v.push(TensorClass::Router);
    }
    v
}

fn format_from_algo(algo: &str) -> Option<WeightFormat> {
    let a = algo.to_ascii_uppercase();
    if a.contains("NVFP4") {
        Some(WeightFormat::Nvfp4)
    } else if a.contains("MXFP4") {
        Some(WeightFormat::Mxfp4)
    } else if a.contains("FP8_BLOCK") || a.contains("FP8_PB") {
        Some(WeightFormat::Fp8Block)
    } else if a.contains("FP8") {
        Some(WeightFormat::Fp8)
    } else if a.contains("W4A16") || a.contains("INT4") || a.contains("AWQ") {
        Some(WeightFormat::Int4)
    } else if a.contains("INT8") || a.contains("W8A8") || a.contains("SMOOTHQUANT") {
        Some(WeightFormat::Int8)
    } else {
        None
    }
}

fn class_of_layer_key(k: &str) -> Option<TensorClass> {
    let k = k.to_ascii_lowercase();
    if k.contains("shared_expert") {
        Some(TensorClass::SharedExperts)
    } else if k.contains("expert") {
        Some(TensorClass::RoutedExperts)
    } else if k.contains("attn") || k.contains("mixer.in_proj") || k.contains("mixer.out_proj") {
        Some(TensorClass::Attention)
    } else if k.contains("mlp") || k.contains("ffn") {
        Some(TensorClass::DenseMlp)
    } else if k.contains("lm_head") {
        Some(TensorClass::LmHead)
    } else {
        None
    }
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The result of reading a checkpoint's precision.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPrecision {
    /// Format per tensor class.
    pub precision: WeightPrecision,
    /// KV dtype recommended by the checkpoint, if any.
    pub checkpoint_kv: Option<KvDtype>,
    /// What was read, for the user.
    pub notes: Vec<String>,
}

/// Read the weight precision from the activation dtype (`torch_dtype` / `dtype`), the config's
/// `quantization_config` and an optional `hf_quant_config.json` (ModelOpt).
pub fn parse_weight_precision(
    base: WeightFormat,
    quantization_config: Option<&Value>,
    hf_quant_config: Option<&Value>,
) -> ParsedPrecision {
    let mut prec = WeightPrecision::unquantized(base);
    let mut notes = Vec::new();
    let mut checkpoint_kv = None;

    // ModelOpt's hf_quant_config.json wins: it describes the checkpoint as exported.
    let modelopt = hf_quant_config
        .map(|h| h.get("quantization").unwrap_or(h))
        .or_else(|| {
            quantization_config.filter(|q| {
                q.get("quant_algo").is_some() && q.get("quant_method").is_none()
                    || q.get("producer")
                        .and_then(|p| p.get("name"))
                        .and_then(Value::as_str)
                        == Some("modelopt")
            })
        });

    if let Some(m) = modelopt {
        let algo = m.get("quant_algo").and_then(Value::as_str).unwrap_or("");
        if let Some(kv) = m.get("kv_cache_quant_algo").and_then(Value::as_str) {
            if kv.to_ascii_uppercase().contains("FP8") {
                checkpoint_kv = Some(KvDtype::Fp8);
            }
        }
        if let Some(layers) = m.get("quantized_layers").and_then(Value::as_object) {
            // MIXED_PRECISION: one format per listed module; others stay at the base dtype.
            let mut seen: Vec<(TensorClass, WeightFormat)> = Vec::new();
            for (k, v) in layers {
                let Some(class) = class_of_layer_key(k) else {
                    continue;
                };
                let Some(f) = v
                    .get("quant_algo")
                    .and_then(Value::as_str)
                    .and_then(format_from_algo)
                else {
                    continue;
                };
                if !seen.iter().any(|(c, _)| *c == class) {
                    seen.push((class, f));
                    prec.set(class, f);
                }
            }
            notes.push(format!(
                "mixed precision from ModelOpt quantized_layers: {}",
                seen.iter()
                    .map(|(c, f)| format!("{}={}", c.as_str(), f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if let Some(f) = format_from_algo(algo) {
            let mut p = WeightPrecision::uniform(f);
            p.embedding = base;
            p.norm = base;
            p.router = base;
            p.lm_head = base;
            let excl = {
                let mut e = str_list(m.get("exclude_modules"));
                e.extend(str_list(m.get("ignore")));
                e
            };
            for pat in &excl {
                for c in classes_of_pattern(pat) {
                    p.set(c, base);
                }
            }
            prec = p;
            notes.push(format!("ModelOpt {algo} checkpoint"));
        }
        if let Some(moe_algo) = m.get("moe_quant_algo").and_then(Value::as_str) {
            if let Some(f) = format_from_algo(moe_algo) {
                prec.routed_experts = f;
            }
        }
        return ParsedPrecision {
            precision: prec,
            checkpoint_kv,
            notes,
        };
    }

    let Some(q) = quantization_config else {
        return ParsedPrecision {
            precision: prec,
            checkpoint_kv,
            notes,
        };
    };
    let method = q
        .get("quant_method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut excluded = str_list(q.get("modules_to_not_convert"));
    excluded.extend(str_list(q.get("ignore")));

    let format = match method.as_str() {
        "fp8" => {
            if q.get("weight_block_size").is_some_and(|v| !v.is_null()) {
                Some(WeightFormat::Fp8Block)
            } else {
                Some(WeightFormat::Fp8)
            }
        }
        "mxfp4" => Some(WeightFormat::Mxfp4),
        "awq" | "gptq" | "awq_marlin" | "gptq_marlin" | "auto-round" | "autoround" => {
            let bits = q.get("bits").and_then(Value::as_u64).unwrap_or(4);
            match bits {
                4 => Some(WeightFormat::Int4),
                8 => Some(WeightFormat::Int8),
                2 | 3 => {
                    notes.push(format!(
                        "{method} with {bits}-bit weights: counted at 4 bits (the narrowest \
                         integer format gpuplan models), an overestimate"
                    ));
                    Some(WeightFormat::Int4)
                }
                other => {
                    notes.push(format!(
                        "{method} with bits = {other} is not a width engines run (2, 3, 4 or \
                         8): weights counted at {base}"
                    ));
                    None
                }
            }
        }
        "bitsandbytes" => {
            if q.get("load_in_8bit").and_then(Value::as_bool) == Some(true) {
                Some(WeightFormat::Int8)
            } else {
                Some(WeightFormat::Int4)
            }
        }
        "compressed-tensors" | "compressed_tensors" => compressed_tensors_format(q),
        "modelopt" | "modelopt_fp4" => q
            .get("quant_algo")
            .and_then(Value::as_str)
            .and_then(format_from_algo),
        "" => compressed_tensors_format(q),
        other => {
            notes.push(format!(
                "unrecognised quant_method '{other}': weights counted at {base}"
            ));
            None
        }
    };
    if let Some(f) = format {
        let mut p = WeightPrecision::uniform(f);
        p.embedding = base;
        p.norm = base;
        p.router = base;
        p.lm_head = base;
        for pat in &excluded {
            for c in classes_of_pattern(pat) {
                p.set(c, base);
            }
        }
        prec = p;
        notes.push(format!("{method} checkpoint ({f})"));
    }
    if q.get("kv_cache_scheme")
        .is_some_and(|v| !v.is_null() && v.to_string().to_ascii_uppercase().contains("FP8"))
    {
        checkpoint_kv = Some(KvDtype::Fp8);
    }
    ParsedPrecision {
        precision: prec,
        checkpoint_kv,
        notes,
    }
}

/// compressed-tensors: read the first config group's weight scheme.
fn compressed_tensors_format(q: &Value) -> Option<WeightFormat> {
    let fmt = q
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    if fmt.contains("nvfp4") {
        return Some(WeightFormat::Nvfp4);
    }
    if fmt.contains("mxfp4") {
        return Some(WeightFormat::Mxfp4);
    }
    let groups = q.get("config_groups")?.as_object()?;
    let w = groups.values().next()?.get("weights")?;
    let bits = w.get("num_bits").and_then(Value::as_u64).unwrap_or(16);
    let ty = w.get("type").and_then(Value::as_str).unwrap_or("int");
    let group = w.get("group_size").and_then(Value::as_u64);
    Some(match (bits, ty) {
        (8, "float") => {
            if w.get("block_structure").is_some_and(|b| !b.is_null()) {
                WeightFormat::Fp8Block
            } else {
                WeightFormat::Fp8
            }
        }
        (8, _) => WeightFormat::Int8,
        (4, "float") => {
            if group == Some(32) {
                WeightFormat::Mxfp4
            } else {
                WeightFormat::Nvfp4
            }
        }
        (4, _) => WeightFormat::Int4,
        _ => return None,
    })
}
