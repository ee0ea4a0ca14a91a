"""gpuplan: which GPUs, how many, and how to split an LLM across them to meet latency SLOs at
the lowest cost.

The Python interface of the gpuplan Rust core. Every number comes from the same Rust functions
the ``gpuplan`` command line calls (this package only converts arguments and results), so a
request gives identical figures from Python and from ``gpuplan ... --json``.

>>> import gpuplan
>>> arch = gpuplan.ModelArchitecture("meta-llama/Llama-3.1-8B")
>>> est = gpuplan.estimate_performance("meta-llama/Llama-3.1-8B", "H100", 1, batch_size=8)
>>> result = gpuplan.recommend_gpus(model="meta-llama/Llama-3.1-8B", max_itl_ms=50)
>>> print(result.summary())

Units are in the names: ``_ms`` milliseconds, ``_bytes`` bytes, ``_gib`` GiB (2**30 bytes),
``tok_s`` / ``tokens_per_sec`` tokens per second. Inter-token latency excludes the first token.
"""

from __future__ import annotations

import collections.abc as _abc
import json as _json
import os as _os
import typing as _typing

if _typing.TYPE_CHECKING:  # annotations only: the package namespace holds the public API alone
    from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

    StrOrList = Union[str, Sequence[str]]
    PathLike = Union[str, "_os.PathLike[str]"]
    ModelLike = Union[str, "_os.PathLike[str]", "ModelArchitecture"]

from . import _gpuplan as _native
from ._gpuplan import (
    CatalogError,
    DataFileError,
    GpuplanError,
    HubError,
    InvalidConfiguration,
    ModelConfigError,
    ModelNotFound,
    UnknownGpu,
)

__version__: str = _native.__version__

__all__ = [
    "CalibrationResult",
    "CatalogError",
    "Configuration",
    "DataFileError",
    "GpuplanError",
    "HubError",
    "InvalidConfiguration",
    "MemoryPlan",
    "ModelArchitecture",
    "ModelConfigError",
    "ModelNotFound",
    "NearMiss",
    "PerformanceEstimate",
    "Record",
    "RecommendationResult",
    "UnknownGpu",
    "ValidationReport",
    "calibrate",
    "estimate_performance",
    "estimate_performance_batch",
    "memory_plan",
    "recommend_gpus",
    "to_dataframe",
    "validate",
]



def _options(**kwargs: Any) -> Dict[str, Any]:
    """Keyword arguments for the native module; ``None`` means "the library's default"."""
    return {k: v for k, v in kwargs.items() if v is not None}


def _restore(cls: type, data: Dict[str, Any]) -> "Record":
    record = object.__new__(cls)
    object.__setattr__(record, "_data", data)
    return record


class Record:
    """A read-only result: its fields are attributes, named as in the CLI's ``--json`` output.

    ``to_dict()`` returns the fields as plain Python values, ``to_json()`` as JSON text.
    """

    __slots__ = ("_data",)
    #: Fields shown by ``repr()``.
    _repr_fields: Tuple[str, ...] = ()

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._data == other._data  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore, (type(self), self._data))

    def __repr__(self) -> str:
        names = self._repr_fields or tuple(self._data)[:6]
        fields = ", ".join(f"{n}={self._data.get(n)!r}" for n in names)
        return f"{type(self).__name__}({fields})"

    def to_dict(self) -> Dict[str, Any]:
        """The fields as plain Python values (a deep copy)."""
        return _json.loads(_json.dumps(self._data))

    def to_json(self, indent: Optional[int] = None) -> str:
        """The fields as JSON text."""
        return _json.dumps(self._data, indent=indent)


def _flatten(row: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, _abc.Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def to_dataframe(records: Iterable[Union[Record, Mapping[str, Any]]]) -> Any:
    """A pandas ``DataFrame`` with one row per record (nested fields as ``parent.child``).

    Raises ``ImportError`` when pandas is not installed.
    """
    try:
        import pandas
    except ImportError as e:
        raise ImportError(
            "to_dataframe() needs pandas, which is not installed: pip install pandas"
        ) from e
    rows = [_flatten(r._data if isinstance(r, Record) else r) for r in records]
    return pandas.DataFrame(rows)


def _model_ref(model: ModelLike) -> str:
    """The model argument every function takes: a catalog or Hub id, a path to a config.json
    (or its directory), or a ``ModelArchitecture`` already resolved."""
    if isinstance(model, ModelArchitecture):
        return str(model._data["model"])
    if isinstance(model, (str, _os.PathLike)):
        return _os.fspath(model)
    raise TypeError(
        "model must be a model id, a path or a ModelArchitecture, "
        f"not {type(model).__name__}"
    )


# --- Model architecture ----------------------------------------------------------------------


class ModelArchitecture(Record):
    """A model's architecture facts: a catalog model, a Hugging Face repo id, or a path to a
    ``config.json`` (or a directory holding one).

    Attributes (among others): ``total_params``, ``active_params``, ``embedding_params``,
    ``num_layers``, ``hidden_size``, ``num_attention_heads``, ``num_kv_heads``, ``head_dim``,
    ``attention`` (mha, gqa, mqa, mla, hybrid), ``kv_cache_bytes_per_token`` (at ``kv_dtype``),
    ``weight_bytes``, ``is_moe``, ``num_experts``, ``experts_per_token``, ``model_type``.

    Raises ``ModelNotFound`` for a name that is none of these, ``ModelConfigError`` for a
    config.json that cannot be read, ``HubError`` when the Hub cannot be reached.
    """

    __slots__ = ()
    _repr_fields = ("model", "model_type", "total_params", "num_layers", "attention", "is_moe")

    def __init__(
        self,
        model: ModelLike,
        *,
        kv_dtype: Optional[str] = None,
        weight_quant: Optional[str] = None,
        revision: Optional[str] = None,
        offline: bool = False,
    ) -> None:
        text = _native.model_architecture(
            _model_ref(model),
            **_options(
                kv_dtype=kv_dtype, weight_quant=weight_quant, revision=revision, offline=offline
            ),
        )
        super().__init__(_json.loads(text))

    @property
    def model_id(self) -> str:
        """The model as resolved: catalog id, Hub repo id or the path given."""
        return self._data["model"]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelArchitecture":
        """Rebuilds the facts from ``to_dict()`` without resolving the model again."""
        return _restore(cls, dict(data))  # type: ignore[return-value]


# --- Single-configuration estimates ----------------------------------------------------------


class PerformanceEstimate(Record):
    """The estimate for one configuration. On failure every figure is ``None`` and ``error``
    says why (the estimate is returned, not raised, so a batch always completes).

    Fields: ``model``, ``gpu``, ``num_gpus``, ``tensor_parallel_size``,
    ``pipeline_parallel_size``, ``data_parallel_size``, ``time_to_first_token_ms``,
    ``inter_token_latency_ms`` (first token excluded), ``end_to_end_latency_ms``,
    ``throughput_tokens_per_sec`` (output tokens/s of the deployment),
    ``max_concurrent_requests`` (requests of input + output tokens the KV cache holds),
    ``ttft_ms``, ``tpot_ms``, ``itl_ms`` (each a dict of ``mean``, ``p50``, ``p90``, ``p99``),
    ``workload`` (the workload modelled, in words), ``error``.
    """

    __slots__ = ()
    _repr_fields = (
        "gpu",
        "num_gpus",
        "tensor_parallel_size",
        "time_to_first_token_ms",
        "inter_token_latency_ms",
        "throughput_tokens_per_sec",
        "error",
    )

    @property
    def ok(self) -> bool:
        """True when the configuration could be estimated."""
        return self._data.get("error") is None


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
) -> PerformanceEstimate:
    """Estimates ``num_gpus`` x ``gpu_name`` serving ``model_id`` with ``batch_size`` requests
    in flight, each ``input_length`` prompt tokens and ``output_length`` generated tokens.

    ``tensor_parallel_size`` defaults to ``num_gpus / pipeline_parallel_size``; the GPUs left
    over are data-parallel replicas. Problems with the configuration (unknown model or GPU,
    a layout that does not divide the model, a model that does not fit) come back in
    ``error``; only arguments of the wrong kind raise (``InvalidConfiguration``, ``TypeError``).

    Benchmark-style workloads, named as ``vllm bench serve`` names them: ``max_concurrency``
    (requests in flight; default ``batch_size``, or no cap with a ``request_rate``),
    ``request_rate`` (requests/s, or ``"inf"``: every request at
    t=0), ``num_prompts`` (a finite run, default 1000), ``dataset`` (``"random"``,
    ``"sharegpt"`` or a CSV / JSON-lines file of ``input_len,output_len[,arrival_s]``) and
    ``random_range_ratio``. The estimate's ``ttft_ms``, ``tpot_ms`` and ``itl_ms`` hold the mean,
    p50, p90 and p99; ``workload`` says what was modelled.
    """
    text = _native.estimate_performance(
        _model_ref(model_id),
        str(gpu_name),
        num_gpus,
        **_options(
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            expert_parallel_size=expert_parallel_size,
            input_length=input_length,
            output_length=output_length,
            batch_size=batch_size,
            engine=engine,
            kv_dtype=kv_dtype,
            weight_quant=weight_quant,
            gpu_memory_utilization=gpu_memory_utilization,
            revision=revision,
            offline=offline,
            max_concurrency=max_concurrency,
            request_rate=request_rate,
            num_prompts=num_prompts,
            dataset=dataset,
            random_range_ratio=random_range_ratio,
        ),
    )
    return PerformanceEstimate(_json.loads(text))


def _gpu_config(item: Any) -> Tuple[str, int]:
    if isinstance(item, str):
        return (item, 1)
    if isinstance(item, _abc.Mapping):
        return (str(item["gpu"]), int(item.get("num_gpus", 1)))
    gpu, count = item
    return (str(gpu), int(count))


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
) -> List[PerformanceEstimate]:
    """One estimate per ``(gpu_name, num_gpus)`` of ``gpu_configs`` (a bare GPU name means one
    GPU), in order, with every other setting shared. The model is resolved once; a
    configuration that cannot be estimated carries its ``error`` and never fails the others.
    The configurations are estimated with the GIL released.
    """
    configs = [_gpu_config(item) for item in gpu_configs]
    text = _native.estimate_performance_batch(
        _model_ref(model_id),
        configs,
        **_options(
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            expert_parallel_size=expert_parallel_size,
            input_length=input_length,
            output_length=output_length,
            batch_size=batch_size,
            engine=engine,
            kv_dtype=kv_dtype,
            weight_quant=weight_quant,
            gpu_memory_utilization=gpu_memory_utilization,
            revision=revision,
            offline=offline,
        ),
    )
    return [PerformanceEstimate(e) for e in _json.loads(text)]


# --- Recommendation --------------------------------------------------------------------------


class Configuration(Record):
    """One deployment the recommender evaluated: GPU, count, layout (``tp``, ``pp``, ``dp``,
    ``ep``, ``replicas``), weight and KV formats, engine, serving ``mode``, the estimated
    ``time_to_first_token_ms``, ``inter_token_latency_ms``, ``end_to_end_latency_ms``,
    ``output_throughput_tok_s`` (and ``_per_gpu``), ``output_tok_s_per_user``, cost
    (``usd_per_hour``, ``usd_per_million_output_tokens``), KV capacity, and the headroom left
    on each SLO (``ttft_headroom`` ...: a fraction of the limit, negative when missed).
    """

    __slots__ = ()
    _repr_fields = (
        "gpu",
        "num_gpus",
        "tp",
        "pp",
        "dp",
        "ep",
        "weight_quant",
        "kv_dtype",
        "engine",
        "time_to_first_token_ms",
        "inter_token_latency_ms",
        "output_throughput_tok_s",
        "usd_per_hour",
    )


class NearMiss(Record):
    """A configuration that fits in memory but misses an SLO: ``configuration``,
    ``excluded_by`` (the constraint that excluded it) and ``violations``."""

    __slots__ = ()
    _repr_fields = ("excluded_by", "violations")

    @property
    def configuration(self) -> Configuration:
        return Configuration(self._data["configuration"])


class RecommendationResult:
    """What ``recommend_gpus`` found: the ranked ``configurations`` (best first) that meet
    every SLO, the Pareto ``frontier`` (throughput per GPU vs. per user), the ``near_misses``
    when nothing meets the SLOs, the search ``counts`` and ``notes``.

    ``summary()`` is the CLI's table; ``to_dict()`` / ``to_json()`` are its ``--json``;
    ``to_dataframe()`` gives a pandas ``DataFrame``; ``launch_command("vllm")`` the command
    that starts the best configuration.
    """

    __slots__ = ("_native", "_data")

    def __init__(self, native: Any) -> None:
        self._native = native
        self._data: Dict[str, Any] = _json.loads(native.to_json())

    @classmethod
    def from_json(cls, text: str) -> "RecommendationResult":
        """Rebuilds a result from ``to_json()``."""
        return cls(_native.NativeRecommendation.from_json(text))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecommendationResult":
        """Rebuilds a result from ``to_dict()``."""
        return cls.from_json(_json.dumps(dict(data)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(
                f"'RecommendationResult' object has no attribute {name!r}"
            ) from None

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def __reduce__(self) -> Tuple[Any, ...]:
        return (RecommendationResult.from_json, (self.to_json(),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecommendationResult) and self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    @property
    def configurations(self) -> List[Configuration]:
        """The configurations that meet every SLO, best first (at most ``top``)."""
        return [Configuration(c) for c in self._data["configurations"]]

    @property
    def frontier(self) -> List[Configuration]:
        """The Pareto frontier of the configurations that meet the SLOs: none has both more
        output tokens/s per GPU and more tokens/s per user than another on it."""
        return [Configuration(c) for c in self._data["frontier"]]

    @property
    def near_misses(self) -> List[NearMiss]:
        """The closest configurations that missed an SLO (filled when nothing meets them)."""
        return [NearMiss(m) for m in self._data["near_misses"]]

    @property
    def best(self) -> Optional[Configuration]:
        """The best configuration, ``None`` when nothing meets the SLOs."""
        configurations = self._data["configurations"]
        return Configuration(configurations[0]) if configurations else None

    @property
    def is_satisfied(self) -> bool:
        """True when at least one configuration meets every SLO."""
        return self._data["outcome"] == "satisfied"

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result: 0 when satisfied, 1 otherwise."""
        return int(self._native.exit_code)

    def summary(self) -> str:
        """The readable table ``gpuplan recommend`` prints."""
        return str(self._native.summary())

    def launch_command(self, target: Optional[str] = None, index: int = 0) -> str:
        """How to start configuration ``index`` (0: the best): ``vllm``, ``sglang`` or
        ``trtllm`` (one command per node and role; only for the engine the configuration was
        planned for), ``k8s`` (Deployments / LeaderWorkerSets) or ``llm-d`` (Helm values for
        llm-d's model-service chart); None: the commands of its own engine. Raises
        ``InvalidConfiguration`` when there is no such configuration or the target names
        another engine."""
        return str(self._native.launch_command(target, index))

    def to_dict(self) -> Dict[str, Any]:
        """The result as plain Python values (the CLI's ``--json``)."""
        return _json.loads(self._native.to_json())

    def to_json(self, indent: Optional[int] = None) -> str:
        """The result as JSON text (the CLI's ``--json``)."""
        if indent is None:
            return str(self._native.to_json())
        return _json.dumps(self._data, indent=indent)

    def to_dataframe(self, which: str = "configurations") -> Any:
        """A pandas ``DataFrame`` of ``configurations`` (default), ``frontier`` or
        ``near_misses``, one row per configuration. Raises ``ImportError`` without pandas."""
        if which == "near_misses":
            rows = [
                dict(m["configuration"], excluded_by=m["excluded_by"])
                for m in self._data["near_misses"]
            ]
        elif which in ("configurations", "frontier"):
            rows = self._data[which]
        else:
            raise ValueError(
                f"which must be 'configurations', 'frontier' or 'near_misses', not {which!r}"
            )
        return to_dataframe(rows)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        best = self.best
        return (
            f"RecommendationResult(model={self._data['model']!r}, "
            f"outcome={self._data['outcome']!r}, "
            f"configurations={len(self._data['configurations'])}, "
            f"best={best!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())


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
) -> RecommendationResult:
    """Which GPUs, how many, and how to split ``model`` across them, cheapest first (or by
    ``objective``: ``cost``, ``throughput``, ``latency``), as ``gpuplan recommend`` answers.

    Load: ``concurrency`` requests in flight, or ``request_rate`` requests/s, or neither (the
    best throughput within the SLOs). SLOs: ``max_ttft_ms``, ``max_itl_ms``, ``max_e2e_ms``,
    ``min_throughput_tok_s``. Search space: ``gpus`` (default: every GPU of the catalog),
    ``max_gpus`` per replica, ``allow_quant`` (weight formats besides the checkpoint's;
    default ``["fp8"]``), ``kv_dtype`` (default ``["auto", "fp8"]``), ``engine`` (default
    ``["vllm"]``), ``mode`` (``agg``, ``disagg``, ``auto``). ``prices`` overrides the hourly
    price per GPU (USD). ``emit`` also renders the best configuration's launch command into
    ``result.launch``. With ``estimate_performance_flag=False`` only memory fit is checked.

    Nothing meeting the SLOs is a result (``is_satisfied`` False, ``near_misses`` filled), not
    an error. Raises ``ModelNotFound``, ``UnknownGpu`` or ``InvalidConfiguration`` for bad
    input. The search runs with the GIL released.

    ``max_concurrency`` is an alias of ``concurrency``. ``slo_percentile`` (``"mean"``,
    ``"p50"``, ``"p90"``, ``"p99"``) says which statistic the latency limits apply to;
    ``max_ttft_p99_ms`` / ``max_itl_p99_ms`` limit the 99th percentiles. ``dataset``
    (``"random"``, ``"sharegpt"`` or a length file), ``random_range_ratio`` and ``num_prompts``
    describe the request lengths, as for ``estimate_performance``.
    """
    native = _native.recommend(
        _model_ref(model),
        **_options(
            input_length=input_length,
            output_length=output_length,
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            request_rate=request_rate,
            max_ttft_ms=max_ttft_ms,
            max_itl_ms=max_itl_ms,
            max_e2e_ms=max_e2e_ms,
            min_throughput_tok_s=min_throughput_tok_s,
            gpus=gpus,
            max_gpus=max_gpus,
            allow_quant=allow_quant,
            kv_dtype=kv_dtype,
            engine=engine,
            mode=mode,
            objective=objective,
            prices=dict(prices) if prices is not None else None,
            top=top,
            emit=emit,
            estimate_performance=estimate_performance_flag,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            revision=revision,
            offline=offline,
            slo_percentile=slo_percentile,
            max_ttft_p99_ms=max_ttft_p99_ms,
            max_itl_p99_ms=max_itl_p99_ms,
            dataset=dataset,
            random_range_ratio=random_range_ratio,
            num_prompts=num_prompts,
        ),
    )
    return RecommendationResult(native)


# --- Memory plan -----------------------------------------------------------------------------


class MemoryPlan(Record):
    """How one GPU's memory is spent by a deployment (every ``_gib`` is GiB on one GPU): the
    deployment (``model``, ``gpu``, ``num_gpus``, ``weight_quant``, ``parallelism``),
    ``weights_gib_per_gpu``, ``activation_gib_per_gpu``, ``non_torch_gib_per_gpu``,
    ``cuda_graph_gib_per_gpu``, ``kv_cache_gib_per_gpu``, ``kv_cache_tokens`` (per engine
    instance), ``max_concurrent_requests``, ``fits``, and when it does not fit
    ``shortfall_gib`` and ``advice``."""

    __slots__ = ()
    _repr_fields = (
        "fits",
        "weights_gib_per_gpu",
        "kv_cache_gib_per_gpu",
        "kv_cache_tokens",
        "max_concurrent_requests",
    )


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
) -> MemoryPlan:
    """Plans one GPU's memory for ``model`` on ``gpu`` (``tp * pp * dp`` GPUs; with ``num_gpus``,
    the sizes left out fill it, as ``gpuplan memory --num-gpus`` does) with the engine
    configured for requests of up to ``max_model_len`` tokens (default: the model's longest
    context), as ``gpuplan memory --json`` reports it.

    A plan that does not fit is returned with ``fits`` False and ``advice``. Raises
    ``InvalidConfiguration`` for a layout that breaks a rule (e.g. a tensor-parallel size that
    does not divide the attention heads), ``UnknownGpu``, ``ModelNotFound``.
    """
    text = _native.memory_plan(
        _model_ref(model),
        str(gpu),
        **_options(
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            data_parallel_size=data_parallel_size,
            expert_parallel_size=expert_parallel_size,
            num_gpus=num_gpus,
            max_model_len=max_model_len,
            engine=engine,
            engine_version=engine_version,
            kv_dtype=kv_dtype,
            weight_quant=weight_quant,
            gpu_memory_utilization=gpu_memory_utilization,
            revision=revision,
            offline=offline,
        ),
    )
    return MemoryPlan(_json.loads(text))


# --- Validation against measurements ---------------------------------------------------------


class ValidationReport(Record):
    """Predictions scored against a measurement file: ``rows_total``, ``rows_predicted``,
    ``summary`` (median absolute percentage error and share within 25% for TTFT, ITL and
    output tokens/s), the same statistics ``by_engine``, ``by_gpu``, ``by_model``, and every
    row in ``rows``. ``to_dataframe()`` gives the rows as a pandas ``DataFrame``."""

    __slots__ = ()
    _repr_fields = ("rows_total", "rows_predicted", "summary")

    def to_dataframe(self) -> Any:
        """The rows (prediction, measurement and signed relative error per metric)."""
        return to_dataframe(self._data["rows"])


def validate(
    csv_path: PathLike,
    *,
    models_dir: Optional[PathLike] = None,
    profiles: Optional[PathLike] = None,
) -> ValidationReport:
    """Predicts every row of a measurement CSV (the schema of
    ``data/measurements/perf_calibration.csv``) and scores the predictions. ``models_dir``
    holds the ``config`` files the rows name (default: the embedded catalog); ``profiles`` is
    an engine-profile TOML merged over the embedded one. Raises ``DataFileError`` for a file
    that cannot be read or parsed, ``CatalogError`` for a bad profile file."""
    return ValidationReport(
        _json.loads(_native.validate(csv_path, models_dir, profiles))
    )


class CalibrationResult:
    """What ``calibrate`` fitted, as ``gpuplan calibrate`` reports it: ``profiles_toml`` (the
    profile file, also written to ``output`` when one was given; load it with ``profiles=``),
    ``engines_fitted``, ``rounds``, ``before`` (error statistics with the starting profiles)
    and ``report`` (the validation with the fitted profiles)."""

    __slots__ = ("profiles_toml", "engines_fitted", "rounds", "before", "report", "output")

    def __init__(self, profiles_toml: str, data: Mapping[str, Any], output: Optional[str]):
        self.profiles_toml = profiles_toml
        self.engines_fitted: List[str] = list(data["engines_fitted"])
        self.rounds: int = data["rounds"]
        self.before: Dict[str, Any] = data["before"]
        self.report = ValidationReport(data["after"])
        self.output = output

    def __repr__(self) -> str:
        return (
            f"CalibrationResult(engines_fitted={self.engines_fitted!r}, output={self.output!r}, "
            f"before={self.before!r}, after={self.report.summary!r})"
        )


def calibrate(
    csv_path: PathLike,
    output: Optional[PathLike] = None,
    *,
    models_dir: Optional[PathLike] = None,
    profiles: Optional[PathLike] = None,
    rounds: int = 12,
) -> CalibrationResult:
    """Fits the engines' overhead and scale constants to a measurement CSV (coordinate search,
    ``rounds`` rounds at most per engine) and writes the fitted profile file to ``output`` when
    given (the file ``gpuplan calibrate -o`` writes). Raises ``DataFileError`` for an
    unreadable file or one with no row of an engine that has a profile. The fit runs with the
    GIL released."""
    toml_text, report = _native.calibrate(csv_path, output, models_dir, profiles, rounds)
    return CalibrationResult(toml_text, _json.loads(report), None if output is None else str(output))

