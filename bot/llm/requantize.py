"""Rewrite a GGUF model's quantized weights in another quantization (e.g. Q4_K → Q8_0).

Why: on a small CPU, llama.cpp decodes Q8_0 weights faster than K-quants. Q4_K's 4-bit values
and per-block scales are unpacked for every token, while Q8_0's bytes go straight into the int8
dot products. Requantizing the packaged Q4_K_M file to Q8_0 keeps its values within Q8_0's
rounding, so the answers stay those of the packaged model, and it decodes ~20% faster on the
2-core Xeon (README: answer latency).

Uses the `gguf` library (llama.cpp's own reader, writer and quantization code in numpy).
Imports nothing of articlebot.
"""

from __future__ import annotations

from pathlib import Path


def requantize(source: Path, target: Path, quantization: str) -> None:
    """Write `target`: `source` with every quantized weight (any type `gguf` can read back)
    requantized to `quantization` (a `gguf.GGMLQuantizationType` name, e.g. "Q8_0"). Float
    tensors (norms, biases) and the metadata are copied as they are."""
    import gguf  # ~0.3 s to import; only needed the first time a model is prepared
    from tqdm import tqdm

    wanted = gguf.GGMLQuantizationType[quantization]
    unquantized = {gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.BF16}
    reader = gguf.GGUFReader(source)
    architecture = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(target, architecture, endianess=reader.endianess)
    for field in reader.fields.values():
        # The writer adds the architecture and the GGUF header fields itself.
        if field.name == "general.architecture" or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        item_kind = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=item_kind)
    for tensor in tqdm(reader.tensors, desc=f"requantizing to {quantization}", unit="tensor"):
        if tensor.tensor_type in unquantized or tensor.tensor_type == wanted:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
            continue
        weights = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        writer.add_tensor(tensor.name, gguf.quants.quantize(weights, wanted), raw_dtype=wanted)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
