"""VRML 2.0 (VRML97) reader for the meshes of KiCad's 3D packages (`.wrl`); trimesh reads no VRML.

What KiCad's files use, read as ISO/IEC 14772-1 defines it: `Shape` nodes with an
`IndexedFaceSet` geometry (`coord Coordinate { point [...] }`, `coordIndex [...]` with -1 ending
each polygon, `ccw`), nested in `Group`, `Transform` (translation, rotation, scale,
scaleOrientation, center), `Switch` (the `whichChoice` child only) and the other grouping nodes,
with `DEF`/`USE` sharing. Polygons are fan-triangulated (KiCad's are triangles and convex quads;
chosen: VRML's `convex TRUE` default is trusted). Line sets, point sets, appearance and the
rest carry no surface and are skipped; `PROTO`, `EXTERNPROTO` and `Inline` are refused with a
clear error (a part whose geometry lives elsewhere cannot be read from its bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .shapes import GeometryError, Mesh

_COMMENTS_OR_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|#[^\n]*')
_TOKEN = re.compile(r'[\s,]*([{}\[\]]|"(?:[^"\\]|\\.)*"|[^\s,{}\[\]"]+)')
_KEYWORDS = {"TRUE", "FALSE", "NULL"}
# Nodes whose children (or choice) hold more of the scene.
_GROUPS = {"Group", "Transform", "Anchor", "Billboard", "Collision", "Switch", "LOD"}
_UNSUPPORTED = {"PROTO", "EXTERNPROTO", "Inline"}


@dataclass(eq=False)
class Node:
    type: str
    fields: dict[str, Any] = field(default_factory=dict)


class _Parser:
    def __init__(self, text: str, uri: str):
        # Comments end at the line's end; a '#' inside a string is not a comment.
        self.text = _COMMENTS_OR_STRINGS.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else " ", text)
        self.uri = uri
        self.pos = 0
        self.defs: dict[str, Node] = {}

    def error(self, reason: str) -> GeometryError:
        line = self.text.count("\n", 0, self.pos) + 1
        return GeometryError(self.uri, f"cannot parse as VRML 2.0 (line {line}): {reason}")

    def peek(self) -> str | None:
        match = _TOKEN.match(self.text, self.pos)
        return match.group(1) if match else None

    def next(self) -> str:
        match = _TOKEN.match(self.text, self.pos)
        if match is None:
            raise self.error("unexpected end of file")
        self.pos = match.end()
        return match.group(1)

    def expect(self, token: str) -> None:
        found = self.next()
        if found != token:
            raise self.error(f"expected {token!r}, found {found!r}")

    def scene(self) -> list[Node]:
        nodes = []
        while (token := self.peek()) is not None:
            if token == "ROUTE":  # ROUTE a.b TO c.d: animation wiring, no geometry
                for _ in range(4):
                    self.next()
                continue
            nodes.append(self.node())
        return nodes

    def node(self) -> Node | None:
        token = self.next()
        if token == "NULL":
            return None
        if token == "USE":
            name = self.next()
            if name not in self.defs:
                raise self.error(f"USE {name!r} before its DEF")
            return self.defs[name]
        name = None
        if token == "DEF":
            name, token = self.next(), self.next()
        if token in _UNSUPPORTED:
            raise self.error(f"{token} is not supported (the geometry is not in this file's nodes)")
        if not re.match(r"[A-Za-z_]\w*$", token):
            raise self.error(f"expected a node type, found {token!r}")
        node = Node(token)
        if name is not None:
            self.defs[name] = node  # before the body: a later USE refers to this very node
        self.expect("{")
        while (key := self.next()) != "}":
            if key in ("ROUTE", "IS"):
                raise self.error(f"{key} inside a node is not supported")
            node.fields[key] = self.value()
        return node

    def value(self) -> Any:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of file in a field value")
        if token == "[":
            return self.multiple()
        if token in ("DEF", "USE", "NULL") or _is_node_start(token, self):
            return self.node()
        values = []
        while (token := self.peek()) is not None and (_is_number(token) or token in ("TRUE", "FALSE") or token[0] == '"'):
            values.append(_scalar(self.next()))
        if not values:
            raise self.error(f"expected a field value, found {token!r}")
        return values

    def multiple(self) -> Any:
        self.expect("[")
        first = self.peek()
        if first in ("DEF", "USE", "NULL") or (first is not None and _is_node_start(first, self)):
            nodes = []
            while self.peek() != "]":
                nodes.append(self.node())
            self.next()
            return [n for n in nodes if n is not None]
        if first is not None and first[0] == '"':  # strings may hold ']': token by token
            values = []
            while (token := self.next()) != "]":
                values.append(_scalar(token))
            return values
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.error("unterminated '['")
        body, self.pos = self.text[self.pos:end], end + 1
        tokens = body.replace(",", " ").split()
        try:  # numbers: one vectorised read (coordinates and indices are most of a file)
            return np.array(tokens, dtype=np.float64)
        except ValueError:
            return [_scalar(t) for t in tokens]


def _is_number(token: str) -> bool:
    return token[0].isdigit() or token[0] in "+-." and len(token) > 1


def _is_node_start(token: str, parser: _Parser) -> bool:
    if token in _KEYWORDS or not re.match(r"[A-Za-z_]\w*$", token):
        return False
    after = _TOKEN.match(parser.text, parser.pos)
    following = _TOKEN.match(parser.text, after.end()) if after else None
    return following is not None and following.group(1) == "{"


def _scalar(token: str) -> Any:
    if token[0] == '"':
        return token[1:-1]
    if token in ("TRUE", "FALSE"):
        return token == "TRUE"
    try:
        return float(token)
    except ValueError:
        raise ValueError(f"not a number: {token!r}") from None


def _numbers(value: Any, count: int, default: list[float]) -> np.ndarray:
    if value is None:
        return np.asarray(default, dtype=np.float64)
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if len(array) != count:
        raise ValueError(f"expected {count} numbers, got {len(array)}")
    return array


def rotation_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """3x3 matrix of a VRML SFRotation (x, y, z, angle): Rodrigues' formula on the unit axis."""
    axis, angle = axis_angle[:3], axis_angle[3]
    norm = np.linalg.norm(axis)
    if norm == 0 or angle == 0:
        return np.eye(3)
    x, y, z = axis / norm
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def transform_matrix(fields: dict[str, Any]) -> np.ndarray:
    """4x4 matrix of a Transform: T * C * R * SR * S * -SR * -C (ISO/IEC 14772-1, 6.52)."""

    def affine(linear=np.eye(3), shift=np.zeros(3)) -> np.ndarray:
        out = np.eye(4)
        out[:3, :3], out[:3, 3] = linear, shift
        return out

    translation = _numbers(fields.get("translation"), 3, [0, 0, 0])
    center = _numbers(fields.get("center"), 3, [0, 0, 0])
    rotation = rotation_matrix(_numbers(fields.get("rotation"), 4, [0, 0, 1, 0]))
    scale = _numbers(fields.get("scale"), 3, [1, 1, 1])
    orientation = rotation_matrix(_numbers(fields.get("scaleOrientation"), 4, [0, 0, 1, 0]))
    return (affine(shift=translation) @ affine(shift=center) @ affine(rotation) @ affine(orientation)
            @ affine(np.diag(scale)) @ affine(orientation.T) @ affine(shift=-center))


def triangulate(coord_index: np.ndarray, n_points: int) -> np.ndarray:
    """[F, 3] triangles from a -1-separated polygon index list (fans; degenerate polygons dropped)."""
    index = np.asarray(coord_index, dtype=np.float64).reshape(-1)
    if len(index) == 0:
        return np.zeros((0, 3), dtype=np.int64)
    if (index != np.round(index)).any():
        raise ValueError("coordIndex holds non-integer values")
    index = index.astype(np.int64)
    if index[-1] != -1:
        index = np.append(index, -1)
    if ((index < -1) | (index >= n_points)).any():
        raise ValueError(f"coordIndex refers to points outside the {n_points} coordinates")
    ends = np.flatnonzero(index == -1)
    starts = np.concatenate([[0], ends[:-1] + 1])
    sizes = ends - starts
    fans = np.maximum(sizes - 2, 0)
    first = np.repeat(starts, fans)  # each triangle of polygon p: (p0, p_k, p_k+1), k = 1..n-2
    offset = np.arange(fans.sum()) - np.repeat(np.cumsum(fans) - fans, fans) + 1
    return np.stack([index[first], index[first + offset], index[first + offset + 1]], axis=1)


def _face_sets(nodes: list[Node], matrix: np.ndarray, out: list[tuple[np.ndarray, np.ndarray]],
               depth: int = 0) -> None:
    if depth > 64:
        raise ValueError("scene graph nested deeper than 64 levels (a USE cycle?)")
    for node in nodes:
        if node is None:
            continue
        if node.type == "Shape":
            geometry = node.fields.get("geometry")
            if isinstance(geometry, Node) and geometry.type == "IndexedFaceSet":
                out.append(_face_set(geometry, matrix))
        elif node.type in _GROUPS:
            local = matrix @ transform_matrix(node.fields) if node.type == "Transform" else matrix
            _face_sets(_children(node), local, out, depth + 1)


def _children(node: Node) -> list[Node]:
    if node.type == "Switch":
        choice = _as_nodes(node.fields.get("choice"))
        which = int(np.asarray(node.fields.get("whichChoice", [-1])).reshape(-1)[0])
        return [choice[which]] if 0 <= which < len(choice) else []
    if node.type == "LOD":  # the most detailed level
        return _as_nodes(node.fields.get("level"))[:1]
    return _as_nodes(node.fields.get("children"))


def _as_nodes(value: Any) -> list[Node]:
    if value is None:
        return []
    if isinstance(value, Node):
        return [value]
    if isinstance(value, list) and all(isinstance(v, Node) for v in value):
        return value
    raise ValueError(f"expected nodes, found {type(value).__name__}")


def _face_set(node: Node, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coord = node.fields.get("coord")
    if not isinstance(coord, Node) or coord.type != "Coordinate":
        raise ValueError("IndexedFaceSet without a Coordinate node")
    points = np.asarray(coord.fields.get("point", []), dtype=np.float64).reshape(-1)
    if len(points) % 3:
        raise ValueError(f"Coordinate point holds {len(points)} numbers, not a multiple of 3")
    points = points.reshape(-1, 3)
    faces = triangulate(node.fields.get("coordIndex", []), len(points))
    ccw = node.fields.get("ccw", [True])
    if not bool(ccw[0]):
        faces = faces[:, ::-1]
    return points @ matrix[:3, :3].T + matrix[:3, 3], faces


def parse_vrml(data: bytes, uri: str) -> Mesh:
    """All IndexedFaceSet triangles of a VRML 2.0 file in world coordinates, as one Mesh."""
    text = data.decode("utf-8", errors="replace")
    if not text.lstrip("\ufeff").startswith("#VRML V2.0"):
        raise GeometryError(uri, "not a VRML 2.0 file (missing '#VRML V2.0' header)")
    parser = _Parser(text, uri)
    try:
        nodes = parser.scene()
        sets: list[tuple[np.ndarray, np.ndarray]] = []
        _face_sets(nodes, np.eye(4), sets)
    except GeometryError:
        raise
    except (ValueError, IndexError) as error:
        raise parser.error(str(error)) from None
    sets = [(points, faces) for points, faces in sets if len(faces)]
    if not sets:
        raise GeometryError(uri, "no IndexedFaceSet faces in the VRML scene")
    offsets = np.cumsum([0] + [len(points) for points, _ in sets[:-1]])
    vertices = np.concatenate([points for points, _ in sets])
    faces = np.concatenate([faces + offset for (_, faces), offset in zip(sets, offsets)])
    return Mesh(vertices, faces, source=uri)
