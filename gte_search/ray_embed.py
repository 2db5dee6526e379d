"""Embed on a Ray cluster (`gte-search index --ray ADDRESS`).

The driver walks, reads, chunks and stores exactly as in a local run; `RayEmbedder` stands in
for `Embedder`, so only the texts to embed travel. They go through Ray Data to a pool of
stateful actors (`EmbedWorker`), each of which loads the model once per job from files the
driver shipped through the object store (workers need not see the driver's disks), and the
vectors stream back as the actors finish batches.

Imported only when --ray is given: the default install and `--help` never load ray.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gte_search.models import ModelSource, Pooling, resolve_model
from gte_search.reports import IndexProblem

if TYPE_CHECKING:
    from types import ModuleType

    from transformers import PreTrainedTokenizerBase

    from gte_search.embed import Embedder

RAY_EXTRA_HINT = "--ray needs the ray extra: pip install 'gte-search[ray]'"
# Torch threads per CPU actor: a small BERT gains little past ~4 threads on one batch, so a
# node's cores serve more texts as several 4-thread actors than as one wide one.
CPU_THREADS_PER_ACTOR = 4
# Chunks per Ray job. Each job starts its actors and loads the model (seconds), so the
# indexer hands the cluster large groups; vectors for this many chunks (384-d: 30 MB) are held
# until the group is stored.
RAY_GROUP_CHUNKS = 20_000
# Texts per actor call: large enough to batch well, small enough to spread over the actors
# and to move the progress bar.
ROWS_PER_CALL = 256
PROBE_SECONDS = 5.0
# The files an encoder is loaded from (as models.py downloads them); other exports stay home.
_MODEL_FILES = ("*.json", "*.txt", "*.model", "*.py", "*.safetensors", "1_Pooling/*")


class RayUnavailable(IndexProblem):
    """No Ray to embed on: the extra is missing or the cluster cannot be reached."""


@dataclass(frozen=True)
class ActorPlan:
    """How many embedding actors, and what each one holds of the cluster."""

    actors: int
    cpus: float
    gpus: float

    @property
    def device(self) -> str:
        return "cuda" if self.gpus else "cpu"


def plan_actors(
    resources: dict[str, float], largest_node_cpus: float, requested: int | None
) -> ActorPlan:
    """One actor per GPU when the cluster has GPUs, else one per CPU_THREADS_PER_ACTOR CPUs;
    `requested` overrides the count. A CPU actor never asks for more than one node holds."""
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    if gpus:
        return ActorPlan(requested or gpus, 1.0, 1.0)
    actors = requested or max(1, cpus // CPU_THREADS_PER_ACTOR)
    per_actor = max(1, min(cpus // actors, int(largest_node_cpus) or 1))
    return ActorPlan(actors, float(per_actor), 0.0)


@dataclass(frozen=True)
class ModelFiles:
    """A model folder's files as bytes, named by a digest of their contents."""

    digest: str
    files: dict[str, bytes]

    @classmethod
    def read(cls, directory: Path) -> ModelFiles:
        files: dict[str, bytes] = {}
        for path in sorted(directory.rglob("*")):
            name = path.relative_to(directory).as_posix()
            if path.is_file() and any(fnmatch(name, pattern) for pattern in _MODEL_FILES):
                files[name] = path.read_bytes()
        if not any(name.endswith(".safetensors") for name in files):
            for weights in directory.glob("*.bin"):
                files[weights.name] = weights.read_bytes()
        digest = hashlib.sha256()
        for name, content in files.items():
            digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
        return cls(digest.hexdigest()[:16], files)

    def materialize(self) -> Path:
        """Write the files once per node (later jobs reuse them) and return their folder."""
        folder = Path(tempfile.gettempdir()) / "gte-search-ray-models" / self.digest
        if folder.is_dir():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent))
        for name, content in self.files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
        try:
            staging.rename(folder)
        except OSError:  # another actor on this node wrote it first
            if not folder.is_dir():
                raise
        return folder


@dataclass(frozen=True)
class WorkerSpec:
    """What an actor needs to load the model as the driver would."""

    model_id: str
    pooling: Pooling
    files: Any  # ray.ObjectRef[ModelFiles]
    trust_remote_code: bool
    precision: str
    device: str
    threads: int


class EmbedWorker:
    """A Ray Data actor: loads the model once, then embeds batch after batch."""

    def __init__(self, spec: WorkerSpec) -> None:
        import ray
        import torch

        from gte_search.embed import Embedder

        files: ModelFiles = ray.get(spec.files)
        source = ModelSource(spec.model_id, files.materialize(), spec.pooling)
        self.embedder: Embedder = Embedder(
            source,
            trust_remote_code=spec.trust_remote_code,
            device=torch.device(spec.device),
            precision=spec.precision,
        )
        if spec.device == "cpu":  # Embedder takes every core; this actor holds `threads`
            torch.set_num_threads(spec.threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed([str(text) for text in batch["text"]])
        return {"row": batch["row"], "vector": vectors}


class RayEmbedder:
    """An `EmbeddingModel` whose `embed` runs on a Ray cluster. The driver keeps only the
    tokenizer (to cut chunks to the model's budget); the weights load on the actors."""

    group_chunks = RAY_GROUP_CHUNKS
    worker_class: type[EmbedWorker] = EmbedWorker

    def __init__(
        self,
        source: ModelSource,
        plan: ActorPlan,
        *,
        trust_remote_code: bool = False,
        precision: str | None = None,
    ) -> None:
        import ray
        import torch

        from gte_search.config import precision_setting
        from gte_search.embed import load_config_and_tokenizer, resolve_precision

        config, tokenizer = load_config_and_tokenizer(source, trust_remote_code)
        self.model_id = source.model_id
        self.pooling: Pooling = source.pooling
        self.dimension = int(config.hidden_size)
        self.max_tokens = source.sequence_limit(
            getattr(config, "max_position_embeddings", None), tokenizer.model_max_length
        )
        self.plan = plan
        # Resolved here, for the index's meta: fp16 on GPU actors, as in a local GPU run.
        self.precision = resolve_precision(precision_setting(precision), torch.device(plan.device))
        self._tokenizer: PreTrainedTokenizerBase = tokenizer
        self.texts_sent = 0  # what has travelled to the cluster, for tests and benchmarks
        self._spec = WorkerSpec(
            model_id=source.model_id,
            pooling=source.pooling,
            files=ray.put(ModelFiles.read(source.directory)),
            trust_remote_code=trust_remote_code,
            # Embedder accepts the user's choices; fp16 is what "auto" means on a GPU.
            precision="auto" if self.precision == "fp16" else self.precision,
            device=plan.device,
            threads=max(1, int(plan.cpus)),
        )

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        from gte_search.embed import count_tokens_per_line

        # Only the chunker (one thread) tokenizes on the driver, so no copy is needed.
        return count_tokens_per_line(self._tokenizer, rows) if rows else []

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """One unit-length float32 row per text, in input order, embedded by the actors."""
        import ray
        import ray.data

        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        # Longest first, so each actor call holds texts of similar length (less padding).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        rows = ray.data.from_items([{"row": i, "text": texts[i]} for i in order])
        calls = -(-len(texts) // ROWS_PER_CALL)
        # Ray Data gives these actors max_restarts=-1 and max_task_retries=-1: an actor that
        # dies is restarted and its batch retried, so the run still completes.
        mapped = rows.map_batches(
            self.worker_class,
            fn_constructor_args=(self._spec,),
            batch_size=ROWS_PER_CALL,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=min(self.plan.actors, calls)),
            num_cpus=self.plan.cpus,
            num_gpus=self.plan.gpus or None,
        )
        received = np.zeros(len(texts), dtype=bool)
        try:
            for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
                vectors[batch["row"]] = batch["vector"]
                received[batch["row"]] = True
                if on_batch:
                    on_batch(len(batch["row"]))
        except ray.exceptions.RayError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            raise IndexProblem(f"embedding on Ray failed: {first}") from error
        if not received.all():
            raise IndexProblem("embedding on Ray failed: some texts came back without vectors")
        self.texts_sent += len(texts)
        return vectors

    def embed_query(self, query: str) -> np.ndarray:
        vector: np.ndarray = self.embed([query])[0]
        return vector


class RayCluster:
    """A connection to Ray for one run; `embedder` builds the stand-in for `Embedder`."""

    def __init__(self, ray: ModuleType, actors: int | None) -> None:
        self._ray = ray
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        largest = max((node.get("Resources", {}).get("CPU", 0) for node in nodes), default=1)
        self.plan = plan_actors(ray.cluster_resources(), largest, actors)

    def embedder(
        self,
        model: str,
        *,
        named_by_user: bool,
        trust_remote_code: bool,
        precision: str | None,
        notice: Callable[[str], None],
    ) -> RayEmbedder:
        source = resolve_model(model, named_by_user=named_by_user)
        if source.notice:
            notice(source.notice)
        return RayEmbedder(
            source, self.plan, trust_remote_code=trust_remote_code, precision=precision
        )


@contextmanager
def ray_cluster(address: str, actors: int | None = None) -> Iterator[RayCluster]:
    """Connect to Ray for one run: `local` starts an instance (stopped afterwards), `auto`
    joins the cluster RAY_ADDRESS names, anything else is HOST:PORT (or ray://HOST:PORT).
    A Ray already initialised in this process (a library caller's) is used as it is, once the
    address has been probed. Raises `RayUnavailable`, before anything else happens, when the
    cluster cannot be reached."""
    ray = _import_ray()
    _probe(address)
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        except Exception as error:  # ray raises ConnectionError, RuntimeError, ValueError...
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            raise RayUnavailable(f"cannot connect to Ray at {address}: {first}") from error
    _quiet_ray_data(ray)
    try:
        yield RayCluster(ray, actors)
    finally:
        if started_here:
            ray.shutdown()


def _import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # the extra is ray[data]: fail here, not mid-run
    except ImportError as error:
        raise RayUnavailable(RAY_EXTRA_HINT) from error
    return ray


def _probe(address: str) -> None:
    """Fail in seconds on an address nothing listens at (ray.init would retry for long)."""
    target = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
    if target in ("", "auto", "local"):
        return  # ray.init finds (or starts) the local instance itself
    host, colon, port = target.split("://", 1)[-1].rpartition(":")
    if not colon or not port.isdigit():
        raise RayUnavailable(f"--ray takes local, auto or HOST:PORT, not {target!r}")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as error:
        reason = error.strerror or str(error) or "timed out"
        raise RayUnavailable(f"cannot reach the Ray cluster at {target}: {reason}") from error


def _quiet_ray_data(ray: ModuleType) -> None:
    """gte-search draws its own progress; Ray Data's bars and job logs would interleave."""
    context = ray.data.DataContext.get_current()
    for setting in ("enable_progress_bars", "print_on_execution_start", "enable_auto_log_stats"):
        if hasattr(context, setting):
            setattr(context, setting, False)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
