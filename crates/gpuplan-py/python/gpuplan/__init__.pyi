"""Type stubs of the gpuplan Python package (see __init__.py for the documentation)."""

import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__version__: str

StrOrList = Union[str, Sequence[str]]
PathLike = Union[str, os.PathLike[str]]
ModelLike = Union[str, os.PathLike[str], "ModelArchitecture"]

class GpuplanError(Exception): ...
class ModelNotFound(GpuplanError): ...
class UnknownGpu(GpuplanError): ...
class InvalidConfiguration(GpuplanError): ...
class ModelConfigError(GpuplanError): ...
class HubError(GpuplanError): ...
class CatalogError(GpuplanError): ...
class DataFileError(GpuplanError): ...

class Record:
    def __init__(self, data: Mapping[str, Any]) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self, indent: Optional[int] = None) -> str: ...

def to_dataframe(records: Iterable[Union[Record, Mapping[str, Any]]]) -> Any: ...

class ModelArchitecture(Record):
    model: str
    source: str
    commit: Optional[str]
    model_type: str
    total_params: int
    active_params: int
    embedding_params: int
    lm_head_params: int
    num_layers: int
    hidden_size: int
    vocab_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    attention: str
    kv_dtype: str
    kv_cache_bytes_per_token: float
    kv_cache_bytes_per_token_long_context: float
    kv_state_bytes_per_sequence: float
    weight_bytes: float
    weight_gib: float
    weight_format: str
    is_moe: bool
    num_experts: int
    experts_per_token: int
    max_position_embeddings: int
    mtp_params: int
    tie_word_embeddings: bool
    has_vision_tower: bool
    notes: List[str]
    def __init__(
        self,
        model: ModelLike,
        *,
        kv_dtype: Optional[str] = None,
        weight_quant: Optional[str] = None,
        revision: Optional[str] = None,
        offline: bool = False,
    ) -> None: ...
    @property
    def model_id(self) -> str: ...
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelArchitecture: ...

class PerformanceEstimate(Record):
    model: str
    gpu: str
    num_gpus: int
    tensor_parallel_size: int
    pipeline_parallel_size: int
    data_parallel_size: int
    time_to_first_token_ms: Optional[float]
    inter_token_latency_ms: Optional[float]
    end_to_end_latency_ms: Optional[float]
    throughput_tokens_per_sec: Optional[float]
    max_concurrent_requests: Optional[float]
    ttft_ms: Optional[Dict[str, float]]
    tpot_ms: Optional[Dict[str, float]]
    itl_ms: Optional[Dict[str, float]]
    workload: Optional[str]
    error: Optional[str]
    @property
    def ok(self) -> bool: ...

def estimate_performance(
    model_id: ModelLike,
    gpu_name: str,
    num_gpus: int = 1,
    tensor_parallel_size: Optional[int] = None,
    *,
    pipeline_parallel_size: int = 1,
    expert_parallel_size: int = 1,
    input_length: int = 2048,
    output_length: int = 512,
    batch_size: int = 1,
    engine: str = "vllm",
    kv_dtype: str = "auto",
    weight_quant: Optional[str] = None,
    gpu_memory_utilization: float = 0.9,
    revision: Optional[str] = None,
    offline: bool = False,
    max_concurrency: Optional[int] = None,
    request_rate: Optional[Union[float, str]] = None,
    num_prompts: Optional[int] = None,
    dataset: Optional[str] = None,
    random_range_ratio: Optional[float] = None,
) -> PerformanceEstimate: ...
def estimate_performance_batch(
    model_id: ModelLike,
    gpu_configs: Iterable[Union[Tuple[str, int], str, Mapping[str, Any]]],
    *,
    tensor_parallel_size: Optional[int] = None,
    pipeline_parallel_size: int = 1,
    expert_parallel_size: int = 1,
    input_length: int = 2048,
    output_length: int = 512,
    batch_size: int = 1,
    engine: str = "vllm",
    kv_dtype: str = "auto",
    weight_quant: Optional[str] = None,
    gpu_memory_utilization: float = 0.9,
    revision: Optional[str] = None,
    offline: bool = False,
) -> List[PerformanceEstimate]: ...

class Configuration(Record):
    gpu: str
    gpu_name: str
    gpu_vendor: str
    num_gpus: int
    gpus_per_replica: int
    nodes_per_replica: int
    replicas: int
    tp: int
    pp: int
    dp: int
    ep: int
    weight_quant: str
    requantized: bool
    kv_dtype: str
    engine: str
    mode: str
    disagg: Optional[Dict[str, Any]]
    max_model_len: int
    kv_cache_tokens: int
    max_concurrent_requests: Optional[float]
    concurrency_per_replica: Optional[int]
    time_to_first_token_ms: Optional[float]
    inter_token_latency_ms: Optional[float]
    end_to_end_latency_ms: Optional[float]
    output_throughput_tok_s: Optional[float]
    output_throughput_tok_s_per_gpu: Optional[float]
    output_tok_s_per_user: Optional[float]
    requests_per_s: Optional[float]
    queue_wait_ms: Optional[float]
    usd_per_hour: Optional[float]
    usd_per_million_output_tokens: Optional[float]
    ttft_headroom: Optional[float]
    itl_headroom: Optional[float]
    e2e_headroom: Optional[float]
    throughput_headroom: Optional[float]

class NearMiss(Record):
    excluded_by: str
    violations: List[Dict[str, Any]]
    @property
    def configuration(self) -> Configuration: ...

class RecommendationResult:
    model: str
    input_len: int
    output_len: int
    load: Any
    slo: Dict[str, Optional[float]]
    objective: str
    mode: str
    outcome: str
    counts: Dict[str, int]
    launch: Optional[str]
    notes: List[str]
    @classmethod
    def from_json(cls, text: str) -> RecommendationResult: ...
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecommendationResult: ...
    @property
    def configurations(self) -> List[Configuration]: ...
    @property
    def frontier(self) -> List[Configuration]: ...
    @property
    def near_misses(self) -> List[NearMiss]: ...
    @property
    def best(self) -> Optional[Configuration]: ...
    @property
    def is_satisfied(self) -> bool: ...
    @property
    def exit_code(self) -> int: ...
    def summary(self) -> str: ...
    def launch_command(self, target: Optional[str] = None, index: int = 0) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self, indent: Optional[int] = None) -> str: ...
    def to_dataframe(self, which: str = "configurations") -> Any: ...

def recommend_gpus(
    model: ModelLike,
    input_length: int = 2048,
    output_length: int = 512,
    *,
    concurrency: Optional[int] = None,
    max_concurrency: Optional[int] = None,
    request_rate: Optional[float] = None,
    max_ttft_ms: Optional[float] = None,
    max_itl_ms: Optional[float] = None,
    max_e2e_ms: Optional[float] = None,
    min_throughput_tok_s: Optional[float] = None,
    gpus: Optional[StrOrList] = None,
    max_gpus: int = 8,
    allow_quant: Optional[StrOrList] = None,
    kv_dtype: Optional[StrOrList] = None,
    engine: Optional[StrOrList] = None,
    mode: str = "agg",
    objective: str = "cost",
    prices: Optional[Mapping[str, float]] = None,
    top: int = 5,
    emit: Optional[str] = None,
    estimate_performance_flag: bool = True,
    gpu_memory_utilization: float = 0.9,
    max_model_len: Optional[int] = None,
    revision: Optional[str] = None,
    offline: bool = False,
    slo_percentile: Optional[str] = None,
    max_ttft_p99_ms: Optional[float] = None,
    max_itl_p99_ms: Optional[float] = None,
    dataset: Optional[str] = None,
    random_range_ratio: Optional[float] = None,
    num_prompts: Optional[int] = None,
) -> RecommendationResult: ...

class MemoryPlan(Record):
    model: str
    gpu: str
    num_gpus: int
    weight_quant: str
    engine: str
    engine_version: str
    parallelism: Dict[str, int]
    kv_dtype: str
    gpu_memory_gib: float
    gpu_memory_utilization: float
    usable_gib: float
    free_gib_per_gpu: float
    weights_gib_per_gpu: float
    weight_bytes_per_gpu_by_class: Dict[str, float]
    activation_gib_per_gpu: float
    non_torch_gib_per_gpu: float
    cuda_graph_gib_per_gpu: float
    kv_cache_gib_per_gpu: float
    kv_cache_bytes_per_token: float
    kv_cache_tokens: int
    kv_block_size: int
    max_concurrent_requests: float
    max_model_len: int
    max_model_len_fit: int
    fits: bool
    shortfall_gib: float
    advice: List[str]
    stages: List[Dict[str, Any]]
    notes: List[str]

def memory_plan(
    model: ModelLike,
    gpu: str,
    *,
    tensor_parallel_size: Optional[int] = None,
    pipeline_parallel_size: Optional[int] = None,
    data_parallel_size: Optional[int] = None,
    expert_parallel_size: Optional[int] = None,
    num_gpus: Optional[int] = None,
    max_model_len: Optional[int] = None,
    engine: str = "vllm",
    engine_version: Optional[str] = None,
    kv_dtype: str = "auto",
    weight_quant: Optional[str] = None,
    gpu_memory_utilization: float = 0.9,
    revision: Optional[str] = None,
    offline: bool = False,
) -> MemoryPlan: ...

class ValidationReport(Record):
    rows_total: int
    rows_predicted: int
    summary: Dict[str, Dict[str, float]]
    by_engine: Dict[str, Dict[str, Dict[str, float]]]
    by_gpu: Dict[str, Dict[str, Dict[str, float]]]
    by_model: Dict[str, Dict[str, Dict[str, float]]]
    rows: List[Dict[str, Any]]
    def to_dataframe(self) -> Any: ...

def validate(
    csv_path: PathLike,
    *,
    models_dir: Optional[PathLike] = None,
    profiles: Optional[PathLike] = None,
) -> ValidationReport: ...

class CalibrationResult:
    profiles_toml: str
    engines_fitted: List[str]
    rounds: int
    before: Dict[str, Dict[str, float]]
    report: ValidationReport
    output: Optional[str]

def calibrate(
    csv_path: PathLike,
    output: Optional[PathLike] = None,
    *,
    models_dir: Optional[PathLike] = None,
    profiles: Optional[PathLike] = None,
    rounds: int = 12,
) -> CalibrationResult: ...
