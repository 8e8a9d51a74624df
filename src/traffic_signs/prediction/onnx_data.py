"""Whether an ONNX file keeps tensors outside itself ("external data").

ONNX Runtime loads such tensors from files named inside the model, relative to it; the
SHA-256 in a model's metadata covers the ``.onnx`` file only, so a swapped data file would
change the answers silently. Exported models here never use external data, so a model that
does is refused. A small reader of the protobuf wire format, guided by the few ONNX messages
that can hold tensors (the ``onnx`` package is not needed when serving).
"""

from __future__ import annotations

from collections.abc import Iterator

# message -> {field number: the message that field holds}, after onnx.proto3
_HOLDS: dict[str, dict[int, str]] = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}
_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION, _EXTERNAL = 13, 14, 1
MAX_DEPTH = 64


def uses_external_data(model: bytes) -> bool:
    """True when any tensor of the serialised ModelProto lives in another file; ValueError when
    the bytes are not a well-formed protobuf."""
    return _scan(memoryview(model), "model", 0)


def _scan(message: memoryview, kind: str, depth: int) -> bool:
    if depth > MAX_DEPTH:
        raise ValueError("messages nested too deeply")
    for field, wire, value in _fields(message):
        if kind == "tensor" and (field == _TENSOR_EXTERNAL_DATA and wire == 2
                                 or field == _TENSOR_DATA_LOCATION and wire == 0 and value == _EXTERNAL):
            return True
        inner = _HOLDS[kind].get(field)
        if inner and wire == 2 and _scan(value, inner, depth + 1):
            return True
    return False


def _fields(message: memoryview) -> Iterator[tuple[int, int, object]]:
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(message, position)
            yield field, wire, value
        elif wire == 2:
            length, position = _varint(message, position)
            if position + length > len(message):
                raise ValueError("truncated field")
            yield field, wire, message[position : position + length]
            position += length
        elif wire in (1, 5):
            position += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    if position != len(message):
        raise ValueError("truncated field")


def _varint(message: memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(message) or shift > 63:
            raise ValueError("bad varint")
        byte = message[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
