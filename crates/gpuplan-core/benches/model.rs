//! Parsing config.json and analysing the architecture (params, operators, KV bytes).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gpuplan_core::model::parse_config;
use gpuplan_core::quant::KvDtype;

const LLAMA_70B: &str =
    include_str!("../../gpuplan-catalog/data/models/meta-llama__Llama-3.1-70B.json");
const DEEPSEEK_V3: &str =
    include_str!("../../gpuplan-catalog/data/models/deepseek-ai__DeepSeek-V3.json");
const NEMOTRON_H: &str =
    include_str!("../../gpuplan-catalog/data/models/nvidia__Nemotron-H-56B-Base-8K.json");

fn bench(c: &mut Criterion) {
    for (name, text) in [
        ("llama-3.1-70b", LLAMA_70B),
        ("deepseek-v3", DEEPSEEK_V3),
        ("nemotron-h-56b", NEMOTRON_H),
    ] {
        c.bench_function(&format!("parse/{name}"), |b| {
            b.iter(|| parse_config(name, black_box(text), None).expect("parses"))
        });
        let arch = parse_config(name, text, None).expect("parses");
        c.bench_function(&format!("analyse/{name}"), |b| {
            b.iter(|| {
                let a = black_box(&arch);
                (
                    a.params(),
                    a.weight_bytes(),
                    a.kv_cache_bytes_per_token(4096, KvDtype::Bf16),
                    a.operators().len(),
                )
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
