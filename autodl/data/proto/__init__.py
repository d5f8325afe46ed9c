"""Protocol-buffer messages of the AutoDL format, built from the ``.proto`` files beside this one.

``example.proto`` is the subset of TensorFlow's ``example.proto``/``feature.proto`` that
AutoDL records use (same field numbers, so the same bytes on the wire); ``data.proto``
is ``DataSpecification`` (proto2, package ``autodl``), the schema of
``metadata.textproto``.

Why no ``*_pb2.py``: generated modules check the protobuf runtime's version and break
across protobuf 4/5/6/7. Instead a small reader of the ``.proto`` subset used here
turns each file into a ``FileDescriptorProto`` at import; the messages live in a
private descriptor pool, so they never clash with TensorFlow's own ``tensorflow.*``
messages in the same process. With the ``upb`` backend, parsing is C speed.

>>> from autodl.data.proto import SequenceExample
>>> ex = SequenceExample()
>>> ex.context.feature["label_index"].int64_list.value.append(3)
>>> SequenceExample.FromString(ex.SerializeToString()).context.feature["label_index"]
int64_list {
  value: 3
}
<BLANKLINE>
"""

from __future__ import annotations

import re
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = [
    "BytesList",
    "DataSpecification",
    "Example",
    "Feature",
    "FeatureList",
    "FeatureLists",
    "Features",
    "FloatList",
    "Int64List",
    "MatrixSpec",
    "SequenceExample",
    "parse_proto",
]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _F.TYPE_DOUBLE,
    "float": _F.TYPE_FLOAT,
    "int64": _F.TYPE_INT64,
    "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32,
    "fixed64": _F.TYPE_FIXED64,
    "fixed32": _F.TYPE_FIXED32,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "uint32": _F.TYPE_UINT32,
    "sfixed32": _F.TYPE_SFIXED32,
    "sfixed64": _F.TYPE_SFIXED64,
    "sint32": _F.TYPE_SINT32,
    "sint64": _F.TYPE_SINT64,
}
_LABELS = {
    "optional": _F.LABEL_OPTIONAL,
    "repeated": _F.LABEL_REPEATED,
    "required": _F.LABEL_REQUIRED,
}
_TOKEN = re.compile(r'\s*(?:(//[^\n]*)|("[^"]*")|([A-Za-z_][\w.]*)|(-?\d+)|(\S))')


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # trailing whitespace
            break
        pos = m.end()
        if m.group(1) is None:
            out.append(m.group(0).strip())
    return out


class _Parser:
    """Recursive descent over the subset: syntax, package, message, enum, oneof, map, options."""

    def __init__(self, text: str, name: str):
        self.toks = _tokens(text)
        self.i = 0
        self.name = name

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"{self.name}: expected {expected!r}, found {tok!r}")
        self.i += 1
        return tok

    def number(self) -> int:
        tok = self.take()
        if not re.fullmatch(r"-?\d+", tok):
            raise ValueError(f"{self.name}: expected a number, found {tok!r}")
        return int(tok)

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        fdp = descriptor_pb2.FileDescriptorProto(name=self.name)
        while self.peek() is not None:
            tok = self.take()
            if tok == "syntax":
                self.take("=")
                fdp.syntax = self.take().strip('"')
                self.take(";")
            elif tok == "package":
                fdp.package = self.take()
                self.take(";")
            elif tok == "message":
                self.message(fdp.message_type.add(), fdp.syntax)
            elif tok == "enum":
                self.enum(fdp.enum_type.add())
            else:
                raise ValueError(f"{self.name}: unexpected {tok!r}")
        return fdp

    def enum(self, e: descriptor_pb2.EnumDescriptorProto) -> None:
        e.name = self.take()
        self.take("{")
        while self.peek() != "}":
            v = e.value.add(name=self.take())
            self.take("=")
            v.number = self.number()
            self.take(";")
        self.take("}")

    def message(self, m: descriptor_pb2.DescriptorProto, syntax: str) -> None:
        m.name = self.take()
        self.take("{")
        while self.peek() != "}":
            tok = self.peek()
            if tok == "message":
                self.take()
                self.message(m.nested_type.add(), syntax)
            elif tok == "enum":
                self.take()
                self.enum(m.enum_type.add())
            elif tok == "oneof":
                self.take()
                index = len(m.oneof_decl)
                m.oneof_decl.add(name=self.take())
                self.take("{")
                while self.peek() != "}":
                    self.field(m, syntax).oneof_index = index
                self.take("}")
            else:
                self.field(m, syntax)
        self.take("}")

    def field(self, m: descriptor_pb2.DescriptorProto, syntax: str) -> _F:
        f = m.field.add(label=_F.LABEL_OPTIONAL)
        if self.peek() in _LABELS:
            f.label = _LABELS[self.take()]
        if self.peek() == "map":
            self.take()
            self.take("<")
            key = self.take()
            self.take(",")
            value = self.take()
            self.take(">")
            f.name = self.take()
            entry = m.nested_type.add(
                name="".join(p.capitalize() for p in f.name.split("_")) + "Entry"
            )
            entry.options.map_entry = True
            for number, (fname, ftype) in enumerate((("key", key), ("value", value)), 1):
                self._set_type(
                    entry.field.add(name=fname, number=number, label=_F.LABEL_OPTIONAL), ftype
                )
            f.label = _F.LABEL_REPEATED
            f.type = _F.TYPE_MESSAGE
            f.type_name = entry.name  # resolved to a full name by _resolve
        else:
            self._set_type(f, self.take())
            f.name = self.take()
        self.take("=")
        f.number = self.number()
        if self.peek() == "[":
            self.take()
            while True:
                key = self.take()
                self.take("=")
                value = self.take()
                if key == "default":
                    f.default_value = value.strip('"')
                elif key == "packed":
                    f.options.packed = value == "true"
                elif key == "deprecated":
                    f.options.deprecated = value == "true"
                if self.take() == "]":
                    break
        self.take(";")
        return f

    @staticmethod
    def _set_type(f: _F, name: str) -> None:
        if name in _SCALARS:
            f.type = _SCALARS[name]
        else:
            f.type_name = name  # message or enum: decided by _resolve


def _resolve(fdp: descriptor_pb2.FileDescriptorProto) -> None:
    """Turn relative type names into full names and tell messages from enums."""
    kinds: dict[str, int] = {}

    def collect(prefix: str, messages, enums) -> None:
        for e in enums:
            kinds[f"{prefix}.{e.name}"] = _F.TYPE_ENUM
        for m in messages:
            kinds[f"{prefix}.{m.name}"] = _F.TYPE_MESSAGE
            collect(f"{prefix}.{m.name}", m.nested_type, m.enum_type)

    root = f".{fdp.package}" if fdp.package else ""
    collect(root, fdp.message_type, fdp.enum_type)

    def fix(scope: str, messages) -> None:
        for m in messages:
            inner = f"{scope}.{m.name}"
            for f in list(m.field):
                if not f.type_name or f.type_name.startswith("."):
                    continue
                parts = inner.split(".")
                for k in range(len(parts), 0, -1):
                    candidate = ".".join(parts[:k] + [f.type_name])
                    if candidate in kinds:
                        f.type_name = candidate
                        f.type = kinds[candidate]
                        break
                else:
                    raise ValueError(f"{fdp.name}: unknown type {f.type_name!r}")
            fix(inner, m.nested_type)

    fix(root, fdp.message_type)


def parse_proto(text: str, name: str) -> descriptor_pb2.FileDescriptorProto:
    """A ``FileDescriptorProto`` for the ``.proto`` subset used by this package."""
    fdp = _Parser(text, name).file()
    _resolve(fdp)
    return fdp


def _message_class(pool: descriptor_pool.DescriptorPool, full_name: str) -> type:
    descriptor = pool.FindMessageTypeByName(full_name)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:
        return get(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # protobuf < 4.22


def _build() -> dict[str, type]:
    pool = descriptor_pool.DescriptorPool()
    here = Path(__file__).resolve().parent
    classes = {}
    for filename in ("example.proto", "data.proto"):
        fdp = parse_proto((here / filename).read_text(encoding="utf-8"), f"autodl/{filename}")
        pool.AddSerializedFile(fdp.SerializeToString())  # in every protobuf 4.21..7
        for m in fdp.message_type:
            classes[m.name] = _message_class(pool, f"{fdp.package}.{m.name}")
    return classes


_CLASSES = _build()
BytesList = _CLASSES["BytesList"]
FloatList = _CLASSES["FloatList"]
Int64List = _CLASSES["Int64List"]
Feature = _CLASSES["Feature"]
Features = _CLASSES["Features"]
FeatureList = _CLASSES["FeatureList"]
FeatureLists = _CLASSES["FeatureLists"]
Example = _CLASSES["Example"]
SequenceExample = _CLASSES["SequenceExample"]
MatrixSpec = _CLASSES["MatrixSpec"]
DataSpecification = _CLASSES["DataSpecification"]
del _CLASSES
