"""Model files: the default model's weights requantized from the packaged file (real gguf
reading and writing, on the SmolLM2 test model)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gguf
import numpy as np
import pytest

from bot.llm import models as models_module
from bot.llm import requantize as requantize_module
from bot.llm.models import (
    QWEN_1_5B,
    QWEN_1_5B_Q4_K_M,
    QWEN_1_5B_Q8_0,
    SMOLLM2_135M,
    BuildDependentModel,
    ModelUnavailable,
    PackagedModel,
    RequantizedModel,
    requantized_model,
    resolve_model,
)

pytestmark = pytest.mark.slow

FLOATS = {gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.BF16}


@pytest.fixture(scope="module")
def readers(smollm2, smollm2_q8):
    """(the source, the result); reading a file's 49,152-token vocabulary takes seconds."""
    return gguf.GGUFReader(smollm2), gguf.GGUFReader(smollm2_q8)


def test_every_quantized_weight_is_rewritten_within_the_new_rounding(readers):
    source, result = readers
    assert [t.name for t in result.tensors] == [t.name for t in source.tensors]
    rewritten = 0
    for before, after in zip(source.tensors, result.tensors, strict=True):
        if before.tensor_type in FLOATS:
            assert after.tensor_type == before.tensor_type
            assert np.array_equal(after.data, before.data)
            continue
        rewritten += 1
        assert after.tensor_type == gguf.GGMLQuantizationType.Q8_0
        if before.tensor_type == after.tensor_type:
            assert np.array_equal(after.data, before.data)  # already Q8_0 (SmolLM2's embeddings)
            continue
        if not before.name.startswith("blk.0."):
            continue  # the values of one layer's weights: enough, and quick
        old = gguf.quants.dequantize(before.data, before.tensor_type)
        new = gguf.quants.dequantize(after.data, after.tensor_type)
        assert new.shape == old.shape
        # Q8_0 rounds each block of 32 to steps of 1/127 of its largest value: half a step either
        # way, and a little more, as the step itself is stored as a 16-bit float.
        blocks = old.reshape(-1, 32)
        step = np.abs(blocks).max(axis=1, keepdims=True) / 127
        assert (np.abs(new.reshape(-1, 32) - blocks) <= step * 0.6 + 1e-12).all(), before.name
    assert rewritten > 100  # every layer's matrices, not only a few


def test_the_metadata_is_copied(readers):
    source, result = readers
    fields = {name: [p.tobytes() for p in f.parts] for name, f in source.fields.items() if not name.startswith("GGUF.")}
    copied = {name: [p.tobytes() for p in f.parts] for name, f in result.fields.items() if not name.startswith("GGUF.")}
    assert copied == fields


@pytest.fixture
def written(monkeypatch) -> list[str]:
    """Requantization replaced by a stand-in file (the conversion itself is tested above); the
    list of quantizations it was asked for."""
    asked: list[str] = []

    def write(source, target, quantization):
        asked.append(quantization)
        target.write_bytes(b"GGUF")

    monkeypatch.setattr(requantize_module, "requantize", write)
    return asked


def test_a_requantized_model_is_written_once_and_again_when_its_source_changes(smollm2, tmp_path, written):
    model = RequantizedModel("smollm2-q8", "smollm2-q8_0.gguf", SMOLLM2_135M, "Q8_0")
    path = requantized_model(model, lambda: smollm2, tmp_path)
    assert requantized_model(model, lambda: smollm2, tmp_path) == path
    assert written == ["Q8_0"]  # the second time from the cache
    path.with_suffix(".verified").write_text("another source as Q8_0\n")
    requantized_model(model, lambda: smollm2, tmp_path)
    assert written == ["Q8_0", "Q8_0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smollm2-q8_0.gguf", "smollm2-q8_0.verified"]


def test_a_made_model_is_used_without_its_packaged_source(smollm2, tmp_path, written):
    """Once requantized from a source with a checksum, the packaged source is not looked up: its
    assembled file may be deleted, or its parts uninstalled, without the model being made again."""
    source = PackagedModel("checked", "checked.gguf", (), 4, "f" * 64, "pip install checked")
    model = RequantizedModel("checked-q8", "checked-q8_0.gguf", source, "Q8_0")
    path = requantized_model(model, lambda: smollm2, tmp_path)

    def gone() -> Path:
        raise ModelUnavailable("the source is not installed")

    assert requantized_model(model, gone, tmp_path) == path
    assert written == ["Q8_0"]  # made once
    path.with_suffix(".verified").write_text("another source as Q8_0\n")
    with pytest.raises(ModelUnavailable, match="not installed"):
        requantized_model(model, gone, tmp_path)


def test_an_interrupted_requantization_leaves_nothing(smollm2, tmp_path, monkeypatch):
    def fail(source, target, quantization):
        target.write_bytes(b"GG")
        raise KeyboardInterrupt

    monkeypatch.setattr(requantize_module, "requantize", fail)
    model = RequantizedModel("smollm2-q8", "smollm2-q8_0.gguf", SMOLLM2_135M, "Q8_0")
    with pytest.raises(KeyboardInterrupt):
        requantized_model(model, lambda: smollm2, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_without_gguf_the_error_says_what_to_install(smollm2, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    model = RequantizedModel("smollm2-q8", "smollm2-q8_0.gguf", SMOLLM2_135M, "Q8_0")
    with pytest.raises(ModelUnavailable, match=r"gguf package .* not installed: pip install"):
        requantized_model(model, lambda: smollm2, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_default_model_is_q8_0_only_where_llama_cpp_has_amx():
    assert QWEN_1_5B.choose(["AVX2", "AMX_INT8"]) is QWEN_1_5B_Q8_0
    assert QWEN_1_5B.choose(["AVX2", "AVX512"]) is QWEN_1_5B_Q4_K_M


def test_the_build_picks_the_file_of_a_build_dependent_name(smollm2, tmp_path, monkeypatch, written):
    q8 = RequantizedModel("smollm2-q8", "smollm2-q8_0.gguf", SMOLLM2_135M, "Q8_0")
    either = BuildDependentModel("smollm2-either", "AMX_INT8", q8, SMOLLM2_135M)
    monkeypatch.setitem(models_module.KNOWN_MODELS, either.name, either)
    assert resolve_model(either.name, tmp_path, lambda: ["AVX2"]) == smollm2
    assert resolve_model(either.name, tmp_path, lambda: ["AVX2", "AMX_INT8"]) == tmp_path / "smollm2-q8_0.gguf"

    def unasked() -> list[str]:
        raise AssertionError("the build is asked only about a name whose file depends on it")

    assert resolve_model("smollm2-135m", tmp_path, unasked) == smollm2
