"""Saving and loading Symbols as versioned, strict JSON (`Symbol.tojson` / `save`, `jg.fromjson` /
`jg.load`).

A file is data only. The loader checks every field (types, ranges, op arities, input order)
before it builds a single node, and never evaluates, imports or unpickles anything from it; every
problem is a SerializationError saying what is wrong and where. One node per line, so files diff
well (`A + 1`, its long line wrapped here):

    {
     "format": "jitgraph.symbol",
     "version": 1,
     "nodes": [
      {"op": "var", "name": "A", "inputs": [], "attrs": {}},
      {"op": "const", "name": null, "inputs": [], "attrs": {"value": {"dtype": "int64",
          "shape": [], "data": [1]}, "weak": true}},
      {"op": "add", "name": null, "inputs": [0, 1], "attrs": {}}
     ],
     "heads": [2],
     "output_names": null
    }

Non-finite floats are the strings "nan", "inf" and "-inf"; a NumPy scalar attribute keeps its dtype
as {"dtype": "float32", "value": 1.5}; a getitem key item is an integer, null (newaxis), "..." or
{"slice": [start, stop, step]}.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .errors import SerializationError
from .ir import dtypes
from .symbol import SYM_OPS, Symbol, SymNode, _auto_names, sym_topological

FORMAT = "jitgraph.symbol"
VERSION = 1
READABLE_VERSIONS = (1,)

MAX_NAME = 1000
MAX_OUTPUT_NAME = MAX_NAME + len("_output")  # output names are node names plus this suffix
MAX_RANK = 64  # NumPy's limit on dimensions: bounds shapes, axis lists and keys
MAX_ELEMENTS = 2**26  # per constant; far beyond any sensible graph constant, well below a DoS
_INT_RANGE = (-(2**63), 2**63)
_SCALAR_INT_RANGE = (-(2**63), 2**64)  # Python ints a constant accepts (uint64 included)

_TOP_KEYS = ("format", "version", "nodes", "heads", "output_names")
_NODE_KEYS = ("op", "name", "inputs", "attrs")
_DTYPES = {d.name: d for d in dtypes.SUPPORTED}
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_MAX_FLOAT_INT = int(np.finfo(np.float64).max)  # larger ints overflow float()
_WEAK_DTYPES = ("bool", "int64", "uint64", "float64")  # what np.asarray gives a Python scalar

# Attribute name -> value kind; (op, name) overrides where one name means different things.
_KIND = {
    "keepdims": "bool",
    "has_lo": "bool",
    "has_hi": "bool",
    "endpoint": "bool",
    "weak": "bool",
    "ddof": "int",
    "k": "int",
    "num": "size",
    "N": "size",
    "M": "size",
    "dtype": "dtype",
    "axis": "axis",
    "axes": "axes",
    "shape": "shape",
    "key": "key",
    "fill_value": "fill",
    "start": "real",
    "stop": "real",
    "step": "real",
    "value": "array",
}
_OP_KIND = {("var", "shape"): "dims", ("reshape", "shape"): "newshape"}
_NULLABLE = frozenset({"axis", "axes", "M", "start", "stop", "step", "dtype"})
_REQUIRED = {
    "const": ("value", "weak"),
    "reshape": ("shape",),
    "broadcast_to": ("shape",),
    "expand_dims": ("axis",),
    "getitem": ("key",),
    "astype": ("dtype",),
    "zeros": ("shape",),
    "ones": ("shape",),
    "empty": ("shape",),
    "full": ("shape", "fill_value"),
    "full_like": ("fill_value",),
    "arange": ("start",),
    "eye": ("N",),
    "linspace": ("start", "stop"),
}


def _fail(message: str) -> SerializationError:
    """The one error every check raises (a ValueError too)."""
    return SerializationError(message)


def _show(value: Any) -> str:
    """A short description of a JSON value for messages (never the whole of a huge value)."""
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    text = (
        json.dumps(value)
        if value is None or isinstance(value, (str, bool, int, float))
        else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(op: str, attr: str) -> str:
    """The value kind of attribute `attr` of `op` (which encoder and decoder apply)."""
    return _OP_KIND.get((op, attr), _KIND.get(attr, ""))


# ---------------------------------------------------------------------------------------------
# Writing


def symbol_to_json(symbol: Symbol) -> str:
    """The JSON text of `symbol`: nodes in topological order, one per line (deterministic)."""
    order = sym_topological(symbol._heads)
    index = {id(node): i for i, node in enumerate(order)}
    names = _auto_names(order)
    nodes = [
        _encode_node(node, index, f"node {i} ({names[id(node)]!r})") for i, node in enumerate(order)
    ]
    heads = [index[id(head)] for head in symbol._heads]
    output_names = symbol._output_names

    def dump(value: Any) -> str:
        # ASCII only: names with lone surrogates or odd code points still survive a utf-8 file.
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(", ", ": "))

    body = ",\n".join("  " + dump(node) for node in nodes)
    return (
        f'{{\n "format": {dump(FORMAT)},\n "version": {VERSION},\n "nodes": [\n{body}\n ],\n'
        f' "heads": {dump(heads)},\n "output_names": {dump(output_names)}\n}}\n'
    )


def _encode_node(node: SymNode, index: dict[int, int], where: str) -> dict[str, Any]:
    spec = SYM_OPS.get(node.op)
    if spec is None:
        raise _fail(f"cannot save {where}: unknown op {node.op!r}")
    if node.name is not None and not isinstance(node.name, str):
        raise _fail(f"cannot save {where}: name {node.name!r} is not a string")
    unknown = [k for k in node.attrs if k not in spec.attrs]
    if unknown:
        raise _fail(f"cannot save {where}: op {node.op!r} has no attribute {unknown[0]!r}")
    attrs: dict[str, Any] = {}
    for key in (k for k in spec.attrs if k in node.attrs):  # the op's order: deterministic
        value = node.attrs[key]
        at = f"cannot save {where}: attribute {key!r}"
        if value is None and key in _NULLABLE:
            attrs[key] = None  # kept: for some ops None differs from absent (concatenate axis)
        else:
            attrs[key] = _ENCODERS[kind_of(node.op, key)](value, at)
    inputs = [index[id(x)] for x in node.inputs]
    return {"op": node.op, "name": node.name, "inputs": inputs, "attrs": attrs}


def _enc_int(value: Any, at: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _fail(f"{at}: expected an integer, got {value!r}")
    return int(value)


def _enc_bool(value: Any, at: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(f"{at}: expected a bool, got {value!r}")
    return bool(value)


def _enc_dtype(value: Any, at: str) -> str:
    try:
        return dtypes.check(value, at).name
    except (TypeError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _enc_ints(value: Any, at: str) -> list[int | None]:
    """A shape or axis list (None entries pass: only `var` shapes may hold them, and the
    decoder checks that)."""
    if not isinstance(value, (tuple, list)):
        raise _fail(f"{at}: expected a tuple of integers, got {value!r}")
    return [None if v is None else _enc_int(v, at) for v in value]


def _enc_axis(value: Any, at: str) -> int | list[int | None]:
    return _enc_ints(value, at) if isinstance(value, (tuple, list)) else _enc_int(value, at)


def _enc_float(value: float) -> float | str:
    if math.isnan(value):
        return "nan"
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def _enc_scalar(value: Any, at: str) -> Any:
    """A number attribute; a NumPy scalar keeps its dtype (np.float32 fill -> float32 array)."""
    if isinstance(value, np.generic):
        return {"dtype": _enc_dtype(value.dtype, at), "value": _enc_scalar(value.item(), at)}
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return _enc_float(value)
    raise _fail(f"{at}: expected a number, got {value!r}")


def _enc_key(value: Any, at: str) -> list[Any]:
    if not isinstance(value, tuple):
        raise _fail(f"{at}: expected a tuple, got {value!r}")
    items: list[Any] = []
    for item in value:
        if item is None:
            items.append(None)
        elif item is Ellipsis:
            items.append("...")
        elif isinstance(item, slice):
            items.append(
                {
                    "slice": [
                        None if v is None else _enc_int(v, at)
                        for v in (item.start, item.stop, item.step)
                    ]
                }
            )
        else:
            items.append(_enc_int(item, f"{at}: index item"))
    return items


def _enc_array(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, np.ndarray):
        raise _fail(f"{at}: expected a NumPy array, got {type(value).__name__}")
    if value.size > MAX_ELEMENTS:
        raise _fail(
            f"{at}: a constant of {value.size} elements is over the limit of "
            f"{MAX_ELEMENTS}; pass large arrays as arguments instead"
        )
    dtype = _enc_dtype(value.dtype, at)
    data = value.ravel().tolist()
    if value.dtype.kind == "f":
        data = [_enc_float(x) for x in data]
    return {"dtype": dtype, "shape": list(value.shape), "data": data}


_ENCODERS: dict[str, Callable[[Any, str], Any]] = {
    "bool": _enc_bool,
    "int": _enc_int,
    "size": _enc_int,
    "dtype": _enc_dtype,
    "axis": _enc_axis,
    "axes": _enc_ints,
    "shape": _enc_ints,
    "dims": _enc_ints,
    "newshape": _enc_ints,
    "key": _enc_key,
    "fill": _enc_scalar,
    "real": _enc_scalar,
    "array": _enc_array,
}


# ---------------------------------------------------------------------------------------------
# Reading


class _NodeSpec(NamedTuple):
    op: str
    inputs: list[int]
    attrs: dict[str, Any]
    name: str | None


def fromjson(text: str | bytes) -> Symbol:
    """The Symbol saved in `text` (by Symbol.tojson). Raises SerializationError, naming the node
    and field, if the text is not a valid jitgraph symbol file."""
    document = _parse(text)
    raw_nodes, heads, output_names = _check_document(document)
    labels = _labels(raw_nodes)
    specs = [_decode_node(i, raw, labels[i]) for i, raw in enumerate(raw_nodes)]
    _check_all_used(specs, heads, labels)
    # Everything is valid: only now build nodes.
    built: list[SymNode] = []
    for spec in specs:
        built.append(SymNode(spec.op, [built[j] for j in spec.inputs], spec.attrs, spec.name))
    return Symbol([built[h] for h in heads], output_names)


def load(path: str | os.PathLike[str]) -> Symbol:
    """The Symbol saved at `path` (by Symbol.save). A missing file raises OSError naming it."""
    with open(path, "rb") as f:  # bytes: json detects the encoding, a bad one becomes our error
        data = f.read()
    try:
        return fromjson(data)
    except SerializationError as exc:
        raise SerializationError(f"{os.fspath(path)}: {exc}") from None


def _reject_constant(literal: str) -> Any:
    raise _fail(
        f"{literal} is not valid JSON; write non-finite floats as the strings "
        '"nan", "inf" and "-inf"'
    )


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; a repeated key is an error (json would keep the last silently)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _fail(f"duplicate key {_show(key)} in a JSON object")
        result[key] = value
    return result


def _parse(text: str | bytes) -> Any:
    if not isinstance(text, (str, bytes, bytearray)):
        raise _fail(f"expected JSON text (str or bytes), got {type(text).__name__}")
    if not text.strip():
        raise _fail("the text is empty; expected a jitgraph symbol file (JSON)")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object)
    except SerializationError:
        raise
    except RecursionError:
        raise _fail("not a jitgraph symbol file: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise _fail(
            f"not valid JSON (truncated or corrupted?): {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}"
        ) from None
    except ValueError as exc:  # undecodable bytes, integers of thousands of digits
        raise _fail(f"not valid JSON: {exc}") from None


def _check_document(document: Any) -> tuple[list[Any], list[int], list[str] | None]:
    """The nodes (still raw), heads and output names of a parsed file; checks the top level."""
    if not isinstance(document, dict):
        raise _fail(f"the top level must be a JSON object, got {_show(document)}")
    if "format" not in document:
        raise _fail(f"not a jitgraph symbol file: 'format' is missing (expected {FORMAT!r})")
    if document["format"] != FORMAT:
        raise _fail(f"'format' is {_show(document['format'])}, expected {FORMAT!r}")
    version = document.get("version")
    if type(version) is not int:
        raise _fail(f"'version' must be an integer, got {_show(version)}")
    if version not in READABLE_VERSIONS:
        newer = " (written by a newer jitgraph?)" if version > max(READABLE_VERSIONS) else ""
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise _fail(f"unsupported version {version}{newer}; this jitgraph reads version {readable}")
    unknown = [k for k in document if k not in _TOP_KEYS]
    if unknown:
        raise _fail(f"unknown top-level key {_show(unknown[0])}; expected {', '.join(_TOP_KEYS)}")
    nodes = document.get("nodes")
    if not isinstance(nodes, list):
        raise _fail(f"'nodes' must be a list of node objects, got {_show(nodes)}")
    heads = _check_heads(document.get("heads"), len(nodes))
    return nodes, heads, _check_output_names(document.get("output_names"), len(heads))


def _check_heads(heads: Any, count: int) -> list[int]:
    if not isinstance(heads, list) or not heads:
        raise _fail(f"'heads' must be a non-empty list of node indices, got {_show(heads)}")
    for j, head in enumerate(heads):
        if type(head) is not int or not 0 <= head < count:
            raise _fail(f"heads[{j}]: {_show(head)} is not a node index; there are {count} nodes")
    return heads


def _check_output_names(names: Any, count: int) -> list[str] | None:
    if names is None:
        return None
    if not isinstance(names, list):
        raise _fail(f"'output_names' must be a list of strings or null, got {_show(names)}")
    if len(names) != count:
        raise _fail(f"'output_names' has {len(names)} names for {count} heads")
    for j, name in enumerate(names):
        if type(name) is not str or len(name) > MAX_OUTPUT_NAME:
            raise _fail(
                f"output_names[{j}]: expected a string of at most {MAX_OUTPUT_NAME} "
                f"characters, got {_show(name)}"
            )
    return names


def _labels(raw_nodes: list[Any]) -> list[str]:
    """How messages name each node: its name, or the automatic name list_outputs would give it
    (computed defensively: nothing is validated yet)."""
    stubs: list[SymNode] = []
    for raw in raw_nodes:
        op = raw.get("op") if isinstance(raw, dict) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        name = name if isinstance(name, str) and len(name) <= MAX_NAME else None
        stubs.append(SymNode(op if isinstance(op, str) and op in SYM_OPS else "", (), {}, name))
    # Variables are never named automatically (an unnamed one is an error): no 'var0' labels.
    auto = _auto_names([s for s in stubs if s.op and s.op != "var"])
    labels = []
    for stub in stubs:
        label = auto.get(id(stub), stub.name)
        if not label:
            labels.append("")
            continue
        shown = repr(label) if len(label) <= 40 else repr(label[:37]) + "..."
        labels.append(f" ({shown})")
    return labels


def _check_all_used(specs: list[_NodeSpec], heads: list[int], labels: list[str]) -> None:
    """Reject nodes no head needs: tojson never writes them, so the file was edited or forged."""
    used = set(heads)
    for i in range(len(specs) - 1, -1, -1):
        if i in used:
            used.update(specs[i].inputs)
    for i in range(len(specs)):
        if i not in used:
            raise _fail(
                f"node {i}{labels[i]}: not used by any head; a saved graph holds only "
                "what its outputs need"
            )


def _decode_node(i: int, raw: Any, label: str) -> _NodeSpec:
    where = f"node {i}{label}"
    if not isinstance(raw, dict):
        raise _fail(f"{where}: expected a node object, got {_show(raw)}")
    unknown = [k for k in raw if k not in _NODE_KEYS]
    if unknown:
        raise _fail(
            f"{where}: unknown key {_show(unknown[0])}; a node has the keys {', '.join(_NODE_KEYS)}"
        )
    if "op" not in raw:
        raise _fail(f"{where}: 'op' is missing")
    op = raw["op"]
    if not isinstance(op, str) or op not in SYM_OPS:
        guess = isinstance(op, str) and len(op) <= 40  # difflib is quadratic: only short ones
        close = difflib.get_close_matches(op, SYM_OPS, n=1) if guess else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _fail(f"{where}: unknown op {_show(op)}{hint}")
    name = _decode_name(raw.get("name"), op, where)
    inputs = _decode_inputs(raw.get("inputs", []), i, where)
    attrs = _decode_attrs(raw.get("attrs", {}), op, where)
    _check_arity(op, inputs, attrs, where)
    if op == "const":
        _check_const(attrs, where)
    return _NodeSpec(op, inputs, attrs, name)


def _decode_name(name: Any, op: str, where: str) -> str | None:
    if op == "var" and (name is None or name == ""):
        raise _fail(f"{where}: a var node needs a non-empty name")
    if name is None:
        return None  # named automatically, as before saving
    if type(name) is not str or len(name) > MAX_NAME:
        raise _fail(
            f"{where}: 'name' must be a string of at most {MAX_NAME} characters or null, "
            f"got {_show(name)}"
        )
    return name


def _decode_inputs(inputs: Any, i: int, where: str) -> list[int]:
    if not isinstance(inputs, list):
        raise _fail(f"{where}: 'inputs' must be a list of node indices, got {_show(inputs)}")
    for j, x in enumerate(inputs):
        if type(x) is not int:
            raise _fail(f"{where}: inputs[{j}] must be a node index (an integer), got {_show(x)}")
        if x < 0:
            raise _fail(f"{where}: input {x} is negative; inputs are indices of earlier nodes")
        if x >= i:
            what = "the node itself" if x == i else "a later node"
            raise _fail(f"{where}: input {x} refers to {what}; inputs must come earlier")
    return inputs


def _check_arity(op: str, inputs: list[int], attrs: dict[str, Any], where: str) -> None:
    arity = SYM_OPS[op].arity
    if op == "clip":
        has_lo, has_hi = attrs.get("has_lo", True), attrs.get("has_hi", True)
        if not (has_lo or has_hi):
            raise _fail(f"{where}: clip needs has_lo or has_hi (or both) to be true")
        arity = 1 + has_lo + has_hi  # the operand, then the bounds it has
    if arity is None and not inputs:
        raise _fail(f"{where}: op {op!r} takes one or more inputs, got none")
    if arity is not None and len(inputs) != arity:
        raise _fail(
            f"{where}: op {op!r} takes {arity} input{'s' if arity != 1 else ''}, got {len(inputs)}"
        )


def _check_const(attrs: dict[str, Any], where: str) -> None:
    value = attrs["value"]
    # A weak constant stands for a Python scalar (specialize calls .item() on it).
    if attrs["weak"] and (value.shape != () or value.dtype.name not in _WEAK_DTYPES):
        raise _fail(
            f"{where}: a weak constant must be a 0-d array of dtype "
            f"{', '.join(_WEAK_DTYPES)}; got shape {list(value.shape)}, "
            f"dtype {value.dtype}"
        )


def _decode_attrs(attrs: Any, op: str, where: str) -> dict[str, Any]:
    if not isinstance(attrs, dict):
        raise _fail(f"{where}: 'attrs' must be an object, got {_show(attrs)}")
    allowed = SYM_OPS[op].attrs
    result: dict[str, Any] = {}
    for key, value in attrs.items():
        if key not in allowed:
            raise _fail(
                f"{where}: op {op!r} has no attribute {_show(key)}; its attributes are "
                f"{', '.join(allowed) or '(none)'}"
            )
        at = f"{where}: attribute {key!r}"
        if value is None and key in _NULLABLE:
            result[key] = None
        elif value is None:
            raise _fail(f"{at} must not be null")
        else:
            result[key] = _DECODERS[kind_of(op, key)](value, at)
    missing = [k for k in _REQUIRED.get(op, ()) if result.get(k) is None]
    if missing:
        raise _fail(f"{where}: op {op!r} needs attribute {missing[0]!r}")
    return result


# -- attribute values ---------------------------------------------------------------------------


def _dec_bool(value: Any, at: str) -> bool:
    if type(value) is not bool:
        raise _fail(f"{at}: expected true or false, got {_show(value)}")
    return value


def _dec_int(value: Any, at: str, lo: int = _INT_RANGE[0], hi: int = _INT_RANGE[1]) -> int:
    if type(value) is not int or not lo <= value < hi:
        raise _fail(f"{at}: expected an integer in [{lo}, {hi}), got {_show(value)}")
    return value


def _dec_size(value: Any, at: str) -> int:
    return _dec_int(value, at, 0)


def _dec_dtype(value: Any, at: str) -> np.dtype:
    # A lookup, not np.dtype(text): the file picks from a fixed list and nothing is parsed.
    if type(value) is not str or value not in _DTYPES:
        raise _fail(f"{at}: expected a dtype name, one of {', '.join(_DTYPES)}; got {_show(value)}")
    return _DTYPES[value]


def _dec_list(value: Any, at: str, item: Callable[[Any, str], Any]) -> tuple:
    if not isinstance(value, list) or len(value) > MAX_RANK:
        raise _fail(f"{at}: expected a list of at most {MAX_RANK} items, got {_show(value)}")
    return tuple(item(v, f"{at}[{j}]") for j, v in enumerate(value))


def _dec_axis_int(value: Any, at: str) -> int:
    return _dec_int(value, at, -MAX_RANK, MAX_RANK)


def _dec_axis(value: Any, at: str) -> int | tuple[int, ...]:
    if isinstance(value, list):
        return _dec_list(value, at, _dec_axis_int)
    return _dec_axis_int(value, at)


def _dec_axes(value: Any, at: str) -> tuple[int, ...]:
    return _dec_list(value, at, _dec_axis_int)


def _dec_shape(value: Any, at: str) -> tuple[int, ...]:
    return _dec_list(value, at, _dec_size)


def _dec_dims(value: Any, at: str) -> tuple[int | None, ...]:
    """A Variable's declared shape: None marks a size left open."""
    return _dec_list(value, at, lambda v, a: None if v is None else _dec_size(v, a))


def _dec_newshape(value: Any, at: str) -> tuple[int, ...]:
    """A reshape target: -1 (at most once) stands for the size that fits."""
    shape = _dec_list(value, at, lambda v, a: _dec_int(v, a, -1))
    if shape.count(-1) > 1:
        raise _fail(f"{at}: only one dimension can be -1, got {list(shape)}")
    return shape


def _dec_key_item(value: Any, at: str) -> Any:
    if value is None or value == "...":
        return None if value is None else Ellipsis
    if isinstance(value, dict):
        bounds = value.get("slice")
        if list(value) != ["slice"] or not isinstance(bounds, list) or len(bounds) != 3:
            raise _fail(f'{at}: a slice is {{"slice": [start, stop, step]}}, got {_show(value)}')
        start, stop, step = (
            None if v is None else _dec_int(v, f"{at}.slice[{j}]") for j, v in enumerate(bounds)
        )
        if step == 0:
            raise _fail(f"{at}: slice step cannot be zero")
        return slice(start, stop, step)
    if type(value) is not int:
        raise _fail(f'{at}: expected an integer, null, "..." or a slice, got {_show(value)}')
    return _dec_int(value, at)


def _dec_key(value: Any, at: str) -> tuple:
    key = _dec_list(value, at, _dec_key_item)
    if key.count(Ellipsis) > 1:
        raise _fail(f"{at}: an index can only have a single ellipsis ('...')")
    return key


def _dec_number(value: Any, at: str, allow_bool: bool) -> bool | int | float:
    """A plain number attribute: a bool (if allowed), an integer, a float or a non-finite string."""
    if type(value) is bool and allow_bool:
        return value
    if type(value) is int and _SCALAR_INT_RANGE[0] <= value < _SCALAR_INT_RANGE[1]:
        return value
    if type(value) is float and math.isfinite(value):  # 1e999 parses to inf: not ours
        return value
    if type(value) is str and value in _NONFINITE:
        return _NONFINITE[value]
    what = "a bool, a number" if allow_bool else "a number"
    raise _fail(f'{at}: expected {what} or "nan", "inf", "-inf", got {_show(value)}')


def _dec_scalar(value: Any, at: str, allow_bool: bool = True) -> Any:
    """A number attribute, or a NumPy scalar saved with its dtype."""
    if not isinstance(value, dict):
        return _dec_number(value, at, allow_bool)
    if sorted(value) != ["dtype", "value"]:
        raise _fail(
            f'{at}: a typed scalar is {{"dtype": ..., "value": ...}}, got keys '
            f"{', '.join(map(_show, value))}"
        )
    dtype = _dec_dtype(value["dtype"], f"{at}.dtype")
    if dtype.kind == "b" and not allow_bool:
        raise _fail(f"{at}: a bool is not allowed here")
    return _dec_elements([value["value"]], dtype, f"{at}.value")[0]


def _dec_real(value: Any, at: str) -> Any:
    return _dec_scalar(value, at, allow_bool=False)


def _dec_array(value: Any, at: str) -> np.ndarray:
    if not isinstance(value, dict) or sorted(value) != ["data", "dtype", "shape"]:
        raise _fail(
            f'{at}: expected {{"dtype": ..., "shape": [...], "data": [...]}}, got {_show(value)}'
        )
    dtype = _dec_dtype(value["dtype"], f"{at}.dtype")
    shape = _dec_list(
        value["shape"], f"{at}.shape", lambda v, a: _dec_int(v, a, 0, MAX_ELEMENTS + 1)
    )
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise _fail(
            f"{at}: shape {list(shape)} has {size} elements, over the limit of {MAX_ELEMENTS}"
        )
    data = value["data"]
    if not isinstance(data, list) or len(data) != size:
        raise _fail(
            f"{at}: shape {list(shape)} needs a flat 'data' list of {size} elements, "
            f"got {_show(data)}"
        )
    return _dec_elements(data, dtype, f"{at}.data").reshape(shape)


def _dec_elements(data: list[Any], dtype: np.dtype, at: str) -> np.ndarray:
    """`data` as a 1-d array of `dtype`; every element must be a JSON value of that kind."""
    if dtype.kind == "f":
        return _dec_floats(data, dtype, at)
    if dtype.kind == "b":
        kind, lo, hi, expected = bool, False, True, "true or false"
    else:
        info = np.iinfo(dtype)
        kind, lo, hi = int, int(info.min), int(info.max)
        expected = f"an integer in {dtype}'s range [{lo}, {hi}]"
    # The fast check runs at C speed; only on failure look for the culprit, to name it.
    typed = all(type(x) is kind for x in data)
    if not (typed and (not data or lo <= min(data) <= max(data) <= hi)):
        for j, x in enumerate(data):
            if type(x) is not kind or not lo <= x <= hi:
                raise _fail(f"{at}[{j}]: expected {expected}, got {_show(x)}")
    return np.array(data, dtype=dtype)


def _dec_floats(data: list[Any], dtype: np.dtype, at: str) -> np.ndarray:
    values: list[float] = []
    for j, x in enumerate(data):
        if type(x) is float and math.isfinite(x):  # 1e999 parses to inf: not something we write
            values.append(x)
        elif type(x) is int and abs(x) <= _MAX_FLOAT_INT:
            values.append(float(x))
        elif type(x) is str and x in _NONFINITE:
            values.append(_NONFINITE[x])
        else:
            raise _fail(f'{at}[{j}]: expected a number or "nan", "inf", "-inf", got {_show(x)}')
    wide = np.array(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        array = wide.astype(dtype)
    overflow = np.flatnonzero(np.isfinite(wide) & ~np.isfinite(array))
    if overflow.size:
        j = int(overflow[0])
        raise _fail(f"{at}[{j}]: {values[j]!r} is out of range for {dtype}")
    return array


_DECODERS: dict[str, Callable[[Any, str], Any]] = {
    "bool": _dec_bool,
    "int": _dec_int,
    "size": _dec_size,
    "dtype": _dec_dtype,
    "axis": _dec_axis,
    "axes": _dec_axes,
    "shape": _dec_shape,
    "dims": _dec_dims,
    "newshape": _dec_newshape,
    "key": _dec_key,
    "fill": _dec_scalar,
    "real": _dec_real,
    "array": _dec_array,
}
