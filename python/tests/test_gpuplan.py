"""Tests of the gpuplan Python package (the installed wheel): every public function, bad input,
and the identity of Python and CLI numbers. Run by python/ci.sh."""

import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import gpuplan

REPO = Path(__file__).resolve().parents[2]
CALIBRATION_CSV = REPO / "data" / "measurements" / "perf_calibration.csv"
CATALOG_MODELS = REPO / "crates" / "gpuplan-catalog" / "data" / "models"

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_70B = "meta-llama/Llama-3.1-70B"
QWEN_MOE = "Qwen/Qwen3-30B-A3B"

try:
    import pandas  # noqa: F401

    HAVE_PANDAS = True
except ImportError:
    HAVE_PANDAS = False

needs_pandas = pytest.mark.skipif(not HAVE_PANDAS, reason="pandas is not installed")


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch):
    # Catalog models never touch the network; make sure nothing else does either.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def gpuplan_bin():
    """The gpuplan binary: $GPUPLAN_BIN, else target/debug/gpuplan; None when absent."""
    path = os.environ.get("GPUPLAN_BIN") or str(REPO / "target" / "debug" / "gpuplan")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


# --- package -----------------------------------------------------------------------------------


def test_version_and_typing_markers():
    assert gpuplan.__version__
    package = Path(gpuplan.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "__init__.pyi").is_file()


def test_public_namespace_is_the_api():
    # __all__ names what exists, and no helper module or typing name leaks into the package.
    for name in gpuplan.__all__:
        assert hasattr(gpuplan, name), name
    public = {name for name in vars(gpuplan) if not name.startswith("_")}
    leaked = public - set(gpuplan.__all__) - {"annotations"}
    assert not leaked, f"names outside __all__: {sorted(leaked)}"
    for name in ("Any", "Dict", "Optional", "Union", "json", "os"):
        assert not hasattr(gpuplan, name), name


def test_seed_example_recommend_with_model_architecture():
    # The old recommender's usage example, verbatim.
    from gpuplan import ModelArchitecture, recommend_gpus

    result = recommend_gpus(
        model=ModelArchitecture("meta-llama/Llama-3.1-70B"),
        input_length=2048,
        output_length=512,
        estimate_performance_flag=True,
    )
    assert result.configurations
    assert result.model == "meta-llama/Llama-3.1-70B"


def test_seed_example_estimate_performance():
    # The old recommender's second example, verbatim.
    from gpuplan import estimate_performance

    est = estimate_performance(
        model_id="microsoft/phi-2",
        gpu_name="H100",
        num_gpus=1,
        input_length=1024,
        output_length=256,
        batch_size=4,
    )
    assert est.ok, est.error
    assert est.time_to_first_token_ms > 0 and est.inter_token_latency_ms > 0


def test_every_model_argument_takes_an_architecture_or_a_path(tmp_path):
    arch = gpuplan.ModelArchitecture("meta-llama/Llama-3.1-8B")
    by_arch = gpuplan.estimate_performance(arch, "H100", 1, batch_size=2)
    by_id = gpuplan.estimate_performance("meta-llama/Llama-3.1-8B", "H100", 1, batch_size=2)
    assert by_arch.to_dict() == by_id.to_dict()
    plan = gpuplan.memory_plan(arch, "H100", max_model_len=4096)
    assert plan.fits
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 1024,
        "intermediate_size": 4096, "num_hidden_layers": 4, "num_attention_heads": 8,
        "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 4096,
        "torch_dtype": "bfloat16",
    }))
    assert gpuplan.ModelArchitecture(config).num_layers == 4
    with pytest.raises(TypeError):
        gpuplan.memory_plan(42, "H100")


def test_exception_hierarchy():
    for cls in (
        gpuplan.ModelNotFound,
        gpuplan.UnknownGpu,
        gpuplan.InvalidConfiguration,
        gpuplan.ModelConfigError,
        gpuplan.HubError,
        gpuplan.CatalogError,
        gpuplan.DataFileError,
    ):
        assert issubclass(cls, gpuplan.GpuplanError)
    assert issubclass(gpuplan.GpuplanError, Exception)


# --- ModelArchitecture -------------------------------------------------------------------------


def test_model_architecture_dense():
    arch = gpuplan.ModelArchitecture(LLAMA_70B)
    assert arch.model_id == arch.model
    assert arch.source == "catalog"
    assert arch.model_type == "llama"
    assert arch.num_layers == 80
    assert arch.hidden_size == 8192
    assert arch.num_attention_heads == 64
    assert arch.num_kv_heads == 8
    assert arch.head_dim == 128
    assert arch.attention == "gqa"
    assert not arch.is_moe
    assert arch.num_experts == 0 and arch.experts_per_token == 0
    assert 69e9 < arch.total_params < 72e9
    assert arch.active_params == arch.total_params
    assert arch.embedding_params == 128256 * 8192
    # K and V, 8 heads of 128 in bf16, 80 layers.
    assert arch.kv_cache_bytes_per_token == 80 * 2 * 8 * 128 * 2
    assert arch.weight_bytes == pytest.approx(2 * arch.total_params, rel=0.01)
    assert arch.weight_format == "bf16"


def test_model_architecture_moe_and_kv_dtype():
    arch = gpuplan.ModelArchitecture(QWEN_MOE)
    assert arch.is_moe
    assert arch.num_experts == 128
    assert arch.experts_per_token == 8
    assert arch.active_params < arch.total_params / 5
    fp8 = gpuplan.ModelArchitecture(QWEN_MOE, kv_dtype="fp8")
    assert fp8.kv_dtype == "fp8"
    assert fp8.kv_cache_bytes_per_token == arch.kv_cache_bytes_per_token / 2


def test_model_architecture_from_path(tmp_path):
    source = CATALOG_MODELS / "meta-llama__Llama-3.1-8B.json"
    shutil.copy(source, tmp_path / "config.json")
    from_dir = gpuplan.ModelArchitecture(str(tmp_path))
    from_file = gpuplan.ModelArchitecture(tmp_path / "config.json")
    catalog = gpuplan.ModelArchitecture(LLAMA_8B)
    assert from_dir.source == from_file.source == "local"
    for field in ("total_params", "num_layers", "kv_cache_bytes_per_token", "weight_bytes"):
        assert getattr(from_dir, field) == getattr(catalog, field)
        assert getattr(from_file, field) == getattr(catalog, field)


def test_model_architecture_dict_json_pickle():
    arch = gpuplan.ModelArchitecture(LLAMA_8B)
    d = arch.to_dict()
    for field in (
        "total_params", "active_params", "embedding_params", "num_layers", "hidden_size",
        "num_attention_heads", "num_kv_heads", "head_dim", "attention",
        "kv_cache_bytes_per_token", "weight_bytes", "is_moe", "num_experts",
        "experts_per_token", "model_type",
    ):
        assert field in d
    assert json.loads(arch.to_json()) == d
    assert gpuplan.ModelArchitecture.from_dict(d) == arch
    assert pickle.loads(pickle.dumps(arch)) == arch
    assert "num_layers" in dir(arch)
    assert "Llama-3.1-8B" in repr(arch)
    with pytest.raises(AttributeError):
        arch.num_layers = 3
    with pytest.raises(AttributeError):
        arch.no_such_field


def test_model_architecture_unknown_model():
    with pytest.raises(gpuplan.ModelNotFound) as e:
        gpuplan.ModelArchitecture("no-such-model-xyz")
    assert "unknown model 'no-such-model-xyz'" in str(e.value)
    assert "closest catalog models" in str(e.value)


def test_model_architecture_offline_not_cached():
    with pytest.raises(gpuplan.ModelNotFound) as e:
        gpuplan.ModelArchitecture("no-such-org/no-such-model", offline=True)
    assert "no-such-org/no-such-model" in str(e.value)


def test_model_architecture_malformed_config(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama", "hidden_size": "big"}')
    with pytest.raises(gpuplan.GpuplanError) as e:
        gpuplan.ModelArchitecture(str(tmp_path / "config.json"))
    assert isinstance(e.value, (gpuplan.ModelConfigError, gpuplan.ModelNotFound))


def test_model_architecture_error_message_matches_cli():
    binary = gpuplan_bin()
    if binary is None:
        pytest.skip("the gpuplan binary is not built (cargo build -p gpuplan-cli, or set GPUPLAN_BIN)")
    with pytest.raises(gpuplan.ModelNotFound) as e:
        gpuplan.ModelArchitecture("no-such-model-xyz")
    cli = subprocess.run(
        [binary, "model", "no-such-model-xyz"], capture_output=True, text=True, timeout=120
    )
    assert cli.returncode == 2
    assert str(e.value) in cli.stderr


# --- estimate_performance ----------------------------------------------------------------------


def test_estimate_performance():
    est = gpuplan.estimate_performance(
        LLAMA_70B, "H100", num_gpus=4, tensor_parallel_size=4,
        input_length=1024, output_length=256, batch_size=16,
    )
    assert est.error is None and est.ok
    assert (est.num_gpus, est.tensor_parallel_size, est.data_parallel_size) == (4, 4, 1)
    assert est.time_to_first_token_ms > 0
    assert 0 < est.inter_token_latency_ms < est.end_to_end_latency_ms
    assert est.throughput_tokens_per_sec > 0
    assert est.max_concurrent_requests > 16
    # A second identical request gives identical numbers (pure computation).
    again = gpuplan.estimate_performance(
        LLAMA_70B, "H100", 4, 4, input_length=1024, output_length=256, batch_size=16
    )
    assert again == est


def test_estimate_performance_defaults_and_data_parallel():
    est = gpuplan.estimate_performance(LLAMA_8B, "H100", num_gpus=2, tensor_parallel_size=1)
    assert est.ok, est.error
    assert est.data_parallel_size == 2
    one = gpuplan.estimate_performance(LLAMA_8B, "H100")
    assert one.ok and one.num_gpus == 1 and one.tensor_parallel_size == 1


def test_estimate_performance_errors_are_returned_not_raised():
    bad_tp = gpuplan.estimate_performance(LLAMA_70B, "H100", num_gpus=3, tensor_parallel_size=3)
    assert not bad_tp.ok
    assert "does not divide" in bad_tp.error
    assert bad_tp.time_to_first_token_ms is None

    bad_gpu = gpuplan.estimate_performance(LLAMA_8B, "H1000")
    assert "unknown GPU 'H1000'" in bad_gpu.error and "closest" in bad_gpu.error

    bad_model = gpuplan.estimate_performance("no-such-model-xyz", "H100")
    assert "unknown model" in bad_model.error

    too_big = gpuplan.estimate_performance(LLAMA_70B, "L4", num_gpus=1)
    assert "does not fit" in too_big.error


def test_estimate_performance_bad_arguments_raise():
    with pytest.raises(gpuplan.InvalidConfiguration, match="batch_size"):
        gpuplan.estimate_performance(LLAMA_8B, "H100", batch_size=-1)
    with pytest.raises(gpuplan.InvalidConfiguration, match="engine"):
        gpuplan.estimate_performance(LLAMA_8B, "H100", engine="no-such-engine")
    with pytest.raises(gpuplan.InvalidConfiguration, match="kv_dtype"):
        gpuplan.estimate_performance(LLAMA_8B, "H100", kv_dtype="int3")
    with pytest.raises(TypeError):
        gpuplan.estimate_performance(LLAMA_8B, "H100", batch_size="eight")
    with pytest.raises(TypeError):
        gpuplan.estimate_performance(LLAMA_8B, "H100", no_such_option=1)


# --- estimate_performance_batch ----------------------------------------------------------------


def test_estimate_performance_batch():
    configs = [("H100", 1), ("H100", 2), ("A100", 4)]
    batch = gpuplan.estimate_performance_batch(
        LLAMA_8B, gpu_configs=configs, input_length=1024, output_length=256
    )
    assert [(e.gpu, e.num_gpus) for e in batch] == configs
    assert all(e.ok for e in batch), [e.error for e in batch]
    # Each equals the single estimate of the same request.
    for (gpu, n), est in zip(configs, batch):
        assert est == gpuplan.estimate_performance(
            LLAMA_8B, gpu, n, input_length=1024, output_length=256
        )


def test_estimate_performance_batch_one_invalid_configuration():
    configs = [("H100", 1), ("H1000", 1), ("H100", 3), ("H100", -2), ("A100", 2)]
    batch = gpuplan.estimate_performance_batch(LLAMA_70B, configs, tensor_parallel_size=None)
    assert len(batch) == len(configs)
    ok = [e.ok for e in batch]
    # 70B in bf16 does not fit one 80 GB GPU.
    assert ok == [False, False, False, False, True]
    assert "does not fit" in batch[0].error
    assert "unknown GPU 'H1000'" in batch[1].error
    assert "does not divide" in batch[2].error
    assert "num_gpus" in batch[3].error
    assert batch[4].throughput_tokens_per_sec > 0


def test_estimate_performance_batch_unknown_model_fails_each():
    batch = gpuplan.estimate_performance_batch("no-such-model-xyz", [("H100", 1), "A100"])
    assert len(batch) == 2
    assert all("unknown model" in e.error for e in batch)
    assert batch[1].gpu == "A100" and batch[1].num_gpus == 1


@needs_pandas
def test_estimates_to_dataframe():
    batch = gpuplan.estimate_performance_batch(LLAMA_8B, [("H100", 1), ("H1000", 1)])
    df = gpuplan.to_dataframe(batch)
    assert list(df["gpu"]) == ["H100", "H1000"]
    assert df["error"].isna().tolist() == [True, False]


# --- recommend_gpus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recommendation():
    return gpuplan.recommend_gpus(
        model=LLAMA_70B,
        input_length=2048,
        output_length=512,
        concurrency=32,
        max_itl_ms=50,
        gpus=["H100", "A100", "L40S"],
        estimate_performance_flag=True,
    )


def test_recommend_gpus(recommendation):
    r = recommendation
    assert r.is_satisfied and r.outcome == "satisfied" and r.exit_code == 0
    assert 1 <= len(r.configurations) <= 5
    best = r.best
    assert best == r.configurations[0]
    assert best.gpu in ("h100_sxm", "a100_sxm_80", "l40s")
    for c in r.configurations:
        assert c.inter_token_latency_ms <= 50
        assert c.itl_headroom >= 0
        assert c.num_gpus == c.gpus_per_replica * c.replicas
    costs = [c.usd_per_million_output_tokens for c in r.configurations]
    assert costs == sorted(costs)
    assert r.counts["evaluated"] >= r.counts["fit"] >= r.counts["met_slos"] > 0
    assert r.frontier, "a satisfied result has a Pareto frontier"
    assert "RecommendationResult" in repr(r)


def test_recommend_summary(recommendation):
    text = recommendation.summary()
    assert text.startswith(recommendation.model)
    assert "concurrency 32" in text
    assert "TTFT ms" in text and "ITL ms" in text
    assert "Pareto frontier" in text
    assert str(recommendation) == text


def test_recommend_dict_json_round_trip(recommendation):
    d = recommendation.to_dict()
    assert json.loads(recommendation.to_json()) == d
    assert json.loads(recommendation.to_json(indent=2)) == d
    again = gpuplan.RecommendationResult.from_json(recommendation.to_json())
    assert again == recommendation
    assert again.to_dict() == d
    assert again.summary() == recommendation.summary()
    assert gpuplan.RecommendationResult.from_dict(d) == recommendation
    assert pickle.loads(pickle.dumps(recommendation)) == recommendation
    assert d["configurations"][0]["inter_token_latency_ms"] == (
        recommendation.configurations[0].inter_token_latency_ms
    )
    with pytest.raises(gpuplan.InvalidConfiguration):
        gpuplan.RecommendationResult.from_json('{"not": "a recommendation"}')


def test_recommend_launch_commands(recommendation):
    vllm = recommendation.launch_command("vllm")
    assert "vllm serve " + recommendation.model in vllm
    best = recommendation.best
    if best.tp > 1:
        assert f"--tensor-parallel-size {best.tp}" in vllm
    assert "kind: Deployment" in recommendation.launch_command("k8s")
    assert "modelArtifacts:" in recommendation.launch_command("llm-d")
    assert recommendation.launch_command() == vllm
    with pytest.raises(gpuplan.InvalidConfiguration, match="planned for vllm"):
        recommendation.launch_command("sglang")
    assert recommendation.launch_command("vllm", index=len(recommendation.configurations) - 1)
    with pytest.raises(gpuplan.InvalidConfiguration, match="index"):
        recommendation.launch_command("vllm", index=99)
    with pytest.raises(gpuplan.InvalidConfiguration, match="emit target"):
        recommendation.launch_command("docker")


def test_recommend_emit():
    r = gpuplan.recommend_gpus(LLAMA_8B, gpus="H100", concurrency=4, emit="vllm", top=1)
    assert r.launch is not None and r.launch == r.launch_command("vllm")
    assert len(r.configurations) == 1


def test_recommend_slo_filters_and_no_solution():
    r = gpuplan.recommend_gpus(
        model=LLAMA_8B, gpus=["H100"], concurrency=8, max_ttft_ms=0.001, max_itl_ms=0.001
    )
    assert not r.is_satisfied and r.outcome == "no_configuration" and r.exit_code == 1
    assert r.configurations == [] and r.best is None
    assert r.near_misses
    miss = r.near_misses[0]
    assert miss.excluded_by in ("max_ttft_ms", "max_itl_ms")
    assert isinstance(miss.configuration, gpuplan.Configuration)
    assert "no configuration satisfies the request" in r.summary()
    with pytest.raises(gpuplan.InvalidConfiguration, match="nothing to launch"):
        r.launch_command("vllm")


def test_recommend_objectives_and_options():
    r = gpuplan.recommend_gpus(
        LLAMA_8B, 1024, 256, gpus=["H100", "A100"], objective="throughput",
        allow_quant=[], kv_dtype="auto", engine=["vllm"], prices={"H100": 1.0}, top=3,
    )
    assert r.is_satisfied and r.objective == "throughput"
    per_gpu = [c.output_throughput_tok_s_per_gpu for c in r.configurations]
    assert per_gpu == sorted(per_gpu, reverse=True)
    assert all(c.weight_quant == "bf16" for c in r.configurations)
    for c in r.configurations:
        if c.gpu == "h100_sxm":
            assert c.usd_per_hour == pytest.approx(1.0 * c.num_gpus)


def test_recommend_memory_only():
    r = gpuplan.recommend_gpus(LLAMA_8B, gpus=["H100"], estimate_performance_flag=False)
    assert r.is_satisfied
    assert r.best.time_to_first_token_ms is None


def test_recommend_bad_input():
    with pytest.raises(gpuplan.UnknownGpu) as e:
        gpuplan.recommend_gpus(model=LLAMA_8B, gpus=["H1000"])
    assert "unknown GPU 'H1000'" in str(e.value) and "closest" in str(e.value)
    assert "h100" in str(e.value).lower()
    with pytest.raises(gpuplan.ModelNotFound):
        gpuplan.recommend_gpus(model="no-such-model-xyz")
    with pytest.raises(gpuplan.InvalidConfiguration, match="max_gpus"):
        gpuplan.recommend_gpus(model=LLAMA_8B, max_gpus=0)
    with pytest.raises(gpuplan.InvalidConfiguration, match="concurrency"):
        gpuplan.recommend_gpus(model=LLAMA_8B, concurrency=4, request_rate=2.0)
    with pytest.raises(gpuplan.InvalidConfiguration, match="mode"):
        gpuplan.recommend_gpus(model=LLAMA_8B, mode="sideways")
    with pytest.raises(gpuplan.InvalidConfiguration, match="max_itl_ms"):
        gpuplan.recommend_gpus(model=LLAMA_8B, max_itl_ms=-5)


@needs_pandas
def test_recommend_to_dataframe(recommendation):
    df = recommendation.to_dataframe()
    assert len(df) == len(recommendation.configurations)
    for column in ("gpu", "num_gpus", "tp", "inter_token_latency_ms", "usd_per_hour"):
        assert column in df.columns
    assert df["inter_token_latency_ms"].tolist() == [
        c.inter_token_latency_ms for c in recommendation.configurations
    ]
    assert len(recommendation.to_dataframe("frontier")) == len(recommendation.frontier)
    with pytest.raises(ValueError):
        recommendation.to_dataframe("everything")


def test_to_dataframe_without_pandas(monkeypatch, recommendation):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        recommendation.to_dataframe()


def test_recommend_releases_the_gil():
    """While a search runs on another thread, this thread keeps running."""
    done = threading.Event()
    elapsed = []

    def search():
        start = time.perf_counter()
        # Every engine, both serving modes, up to 32 GPUs: thousands of candidates.
        gpuplan.recommend_gpus(
            model=LLAMA_70B, concurrency=64, max_gpus=32,
            engine=["vllm", "sglang", "trtllm"], mode="auto",
        )
        elapsed.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=search)
    last = time.perf_counter()
    longest_gap = 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest_gap = max(longest_gap, now - last)
        last = now
        time.sleep(0.001)
    worker.join()
    if elapsed[0] < 0.05:
        pytest.skip(f"the search took {elapsed[0] * 1000:.0f} ms: too short to tell")
    assert longest_gap < elapsed[0] / 2, (longest_gap, elapsed[0])


# --- memory_plan -------------------------------------------------------------------------------


def test_memory_plan():
    plan = gpuplan.memory_plan(LLAMA_70B, "H100", tensor_parallel_size=4, max_model_len=8192)
    assert plan.fits
    assert (plan.gpu, plan.num_gpus, plan.weight_quant) == ("h100_sxm", 4, "bf16")
    assert plan.parallelism == {"tp": 4, "pp": 1, "dp": 1, "ep": 1}
    assert plan.max_model_len == 8192
    assert 30 < plan.weights_gib_per_gpu < 35
    assert plan.kv_cache_gib_per_gpu > 0 and plan.kv_cache_tokens > 0
    assert plan.max_concurrent_requests > 1
    assert plan.advice == []
    fp8 = gpuplan.memory_plan(
        LLAMA_70B, "H100", tensor_parallel_size=4, max_model_len=8192, kv_dtype="fp8"
    )
    assert fp8.kv_cache_tokens > 1.9 * plan.kv_cache_tokens


def test_memory_plan_does_not_fit():
    plan = gpuplan.memory_plan(LLAMA_70B, "L4")
    assert plan.max_model_len == gpuplan.ModelArchitecture(LLAMA_70B).max_position_embeddings
    assert not plan.fits
    assert plan.shortfall_gib > 0
    assert plan.advice


def test_memory_plan_bad_input():
    with pytest.raises(gpuplan.InvalidConfiguration, match="invalid parallelism") as e:
        gpuplan.memory_plan(LLAMA_70B, "H100", tensor_parallel_size=3)
    assert "3" in str(e.value)
    with pytest.raises(gpuplan.InvalidConfiguration, match="invalid parallelism"):
        gpuplan.memory_plan(LLAMA_70B, "H100", tensor_parallel_size=0)
    with pytest.raises(gpuplan.UnknownGpu, match="closest"):
        gpuplan.memory_plan(LLAMA_70B, "H1000")
    with pytest.raises(gpuplan.ModelNotFound):
        gpuplan.memory_plan("no-such-model-xyz", "H100")
    with pytest.raises(gpuplan.InvalidConfiguration, match="gpu_memory_utilization"):
        gpuplan.memory_plan(LLAMA_8B, "H100", gpu_memory_utilization=1.5)


# --- validate / calibrate ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_measurements(tmp_path_factory):
    """The calibration file's header and a few rows of one engine."""
    lines = CALIBRATION_CSV.read_text().splitlines()
    rows = [l for l in lines[1:] if ",vllm," in l][:6]
    path = tmp_path_factory.mktemp("measurements") / "small.csv"
    path.write_text("\n".join([lines[0]] + rows) + "\n")
    return path, len(rows)


def test_validate(small_measurements):
    path, n = small_measurements
    report = gpuplan.validate(path)
    assert report.rows_total == n
    assert 0 < report.rows_predicted <= n
    assert set(report.summary) == {"ttft", "itl", "output_tok_s", "tpot"}
    assert "vllm" in report.by_engine
    assert len(report.rows) == n


@needs_pandas
def test_validate_to_dataframe(small_measurements):
    path, n = small_measurements
    df = gpuplan.validate(str(path)).to_dataframe()
    assert len(df) == n and "predicted_itl_ms" in df.columns


def test_validate_bad_files(tmp_path):
    with pytest.raises(gpuplan.DataFileError, match="cannot read .*no-such.csv"):
        gpuplan.validate(tmp_path / "no-such.csv")
    header_only = tmp_path / "header.csv"
    header_only.write_text(CALIBRATION_CSV.read_text().splitlines()[0] + "\n")
    with pytest.raises(gpuplan.DataFileError, match="no measurement rows"):
        gpuplan.validate(header_only)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,isl\nx,not-a-number\n")
    with pytest.raises(gpuplan.DataFileError):
        gpuplan.validate(bad)
    with pytest.raises(gpuplan.CatalogError):
        gpuplan.validate(CALIBRATION_CSV, profiles=tmp_path / "no-such-profiles.toml")


def test_calibrate(small_measurements, tmp_path):
    path, n = small_measurements
    output = tmp_path / "fitted.toml"
    result = gpuplan.calibrate(path, output, rounds=1)
    assert output.read_text() == result.profiles_toml
    assert result.profiles_toml.startswith("# Engine profiles fitted by `gpuplan calibrate`")
    assert result.engines_fitted == ["vllm"] and result.rounds == 1
    assert set(result.before) == {"ttft", "itl", "output_tok_s", "tpot"}
    assert result.output == str(output)
    assert result.report.rows_total == n
    # The fitted profiles load back as a profile file.
    assert gpuplan.validate(path, profiles=output).rows_total == n


# --- Python and CLI give identical numbers -----------------------------------------------------


def test_memory_plan_matches_cli():
    binary = gpuplan_bin()
    if binary is None:
        pytest.skip("the gpuplan binary is not built (cargo build -p gpuplan-cli, or set GPUPLAN_BIN)")
    cli = subprocess.run(
        [binary, "memory", "--model", LLAMA_70B, "--gpu", "H100", "--tp", "4",
         "--max-model-len", "8192", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    plan = gpuplan.memory_plan(LLAMA_70B, "H100", tensor_parallel_size=4, max_model_len=8192)
    assert plan.to_dict() == json.loads(cli.stdout)


@pytest.mark.parametrize(
    "model,gpu,tp,input_len,output_len,concurrency",
    [
        (LLAMA_8B, "H100", 1, 2048, 512, 1),
        (LLAMA_70B, "H100", 4, 1024, 256, 16),
        (QWEN_MOE, "A100", 2, 4096, 128, 8),
    ],
)
def test_python_and_cli_numbers_are_identical(model, gpu, tp, input_len, output_len, concurrency):
    binary = gpuplan_bin()
    if binary is None:
        pytest.skip("the gpuplan binary is not built (cargo build -p gpuplan-cli, or set GPUPLAN_BIN)")
    cli = subprocess.run(
        [
            binary, "estimate", "--model", model, "--gpu", gpu, "--tp", str(tp),
            "--input-len", str(input_len), "--output-len", str(output_len),
            "--concurrency", str(concurrency), "--json",
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    point = json.loads(cli.stdout)["points"][0]
    est = gpuplan.estimate_performance(
        model, gpu, num_gpus=tp, tensor_parallel_size=tp,
        input_length=input_len, output_length=output_len, batch_size=concurrency,
    )
    assert est.ok, est.error
    assert est.time_to_first_token_ms == point["time_to_first_token_ms"]
    assert est.inter_token_latency_ms == point["inter_token_latency_ms"]
    assert est.end_to_end_latency_ms == point["end_to_end_latency_ms"]
    assert est.throughput_tokens_per_sec == point["output_throughput_tok_s"]


def test_benchmark_workloads_and_percentiles():
    burst = gpuplan.estimate_performance(
        "meta-llama/Llama-3.1-8B",
        "H100",
        1,
        request_rate="inf",
        num_prompts=1000,
        dataset="sharegpt",
        input_length=215,
        output_length=194,
    )
    assert burst.ok, burst.error
    assert burst.workload.startswith("burst of 1000 requests")
    for metric in (burst.ttft_ms, burst.tpot_ms, burst.itl_ms):
        assert metric["p50"] <= metric["p90"] <= metric["p99"]
    saturated = gpuplan.estimate_performance(
        "meta-llama/Llama-3.1-8B", "H100", 1, input_length=215, output_length=194, batch_size=1000
    )
    assert burst.throughput_tokens_per_sec < saturated.throughput_tokens_per_sec
    poisson = gpuplan.estimate_performance(
        "meta-llama/Llama-3.1-8B", "H100", 1, request_rate=16.0, input_length=215, output_length=194
    )
    assert "Poisson arrivals at 16 req/s" in poisson.workload
    rec = gpuplan.recommend_gpus(
        "meta-llama/Llama-3.1-8B",
        1024,
        256,
        gpus="H100",
        request_rate=10.0,
        max_ttft_ms=500.0,
        slo_percentile="p90",
    )
    assert rec.is_satisfied
    for c in rec.to_dict()["configurations"]:
        assert c["ttft_ms"]["p90"] <= 500.0
