"""A model's family as a picture: its bases to the left, what derives from it to the right.

:func:`picture` lays out the lineage trees :func:`hkg_rdf.serve.pages.describe` found (breadth
first, so the nearest relatives come first) in columns by distance, at most ``per_column``
models a column and ``depth`` columns each way; what does not fit is counted in a "+N more"
box that links to the SPARQL query listing the whole family. The templates draw it as inline
SVG (``macros.html``: ``lineage_svg``), each model a link to its page, each kind of derivation
(fine-tune, adapter, merge, quantized) with its own colour, dash pattern and label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

NODE_W, NODE_H, COLUMN_GAP, ROW_GAP, MARGIN, LEGEND_H = 260, 42, 70, 12, 10, 30
#: kind -> (colour, SVG dash pattern); the legend shows them in this order
KINDS = {"finetune": ("#0b57d0", ""), "adapter": ("#1a7f37", "7 4"), "merge": ("#8250df", "2 4"), "quantized": ("#bc4c00", "10 4 2 4")}


#: labels longer than this are drawn condensed to fit the box (SVG textLength)
FITS = 30


@dataclass
class Box:
    column: int  # distance: negative for bases, positive for derived models
    row: int
    label: str
    owner: str
    title: str
    href: str | None
    kind: str | None = None  # how it relates to its neighbour towards the centre
    css: str = "node"
    x: float = 0
    y: float = 0

    @property
    def condensed(self) -> bool:
        return len(self.label) > FITS


@dataclass
class Picture:
    boxes: list[Box] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)
    kinds: list[dict] = field(default_factory=list)
    width: float = 0
    height: float = 0
    node_width: int = NODE_W
    node_height: int = NODE_H

    @property
    def models(self) -> int:
        return sum(b.css.startswith("node") for b in self.boxes)


def _box(view: dict, column: int, row: int, kind: str | None, css: str = "node") -> Box:
    name = view.get("id") or view.get("label") or view.get("iri", "")
    owner, _, short = name.rpartition("/")
    return Box(column, row, _cut(short, 36), _cut(owner, 40), name, view.get("href") if view.get("kind") == "entity" else None, kind, css)


def _cut(text: str, limit: int) -> str:
    """Shortened in the middle, where names of one family differ least (…-Instruct-GGUF)."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[-(limit - 1 - half):]


def _full_query(iri: str, properties: list[str], up: bool) -> str:
    path = "|".join(f"<{p}>" for p in properties)
    values = " ".join(f"<{p}>" for p in properties)
    if up:
        body = f"<{iri}> ({path})* ?model .\n  ?model ?relation ?base .\n  VALUES ?relation {{ {values} }}"
    else:
        body = f"?model ?relation ?base .\n  VALUES ?relation {{ {values} }}\n  ?base ({path})* <{iri}> ."
    return "/?" + urlencode({"query": f"SELECT ?model ?relation ?base WHERE {{\n  {body}\n}}"})


def picture(center: dict, lineage: dict, direct: dict[str, int], properties: dict[str, str], per_column: int = 8, depth: int = 3) -> Picture:
    """Lay out ``lineage`` ({"up": ..., "down": ...} trees) around ``center`` (a term view).

    ``direct``: how many bases ("up") and derived models ("down") the entity has in all, so the
    first column's "+N more" is exact even where the search stopped early.
    """
    result = Picture()
    root = _box(center, 0, 0, None, "node current")
    root.href = None  # the page itself
    result.boxes.append(root)
    for sign, side in ((-1, "up"), (1, "down")):
        placed: dict[str, Box] = {center.get("iri", ""): root}
        shown = [0] * (depth + 1)
        hidden = [0] * (depth + 2)
        level = [(node, root) for node in lineage[side]["tree"]]
        distance = 1
        while level:
            following = []
            for node, parent in level:
                target = placed.get(node.get("iri", ""))
                if target is None and distance <= depth and shown[distance] < per_column:
                    target = _box(node, sign * distance, shown[distance], node["relation"] + (" base" if side == "up" else ""))
                    shown[distance] += 1
                    placed[node.get("iri", "")] = target
                    result.boxes.append(target)
                elif target is None:
                    hidden[min(distance, depth + 1)] += 1
                if target is not None:
                    derived, base = (parent, target) if side == "up" else (target, parent)
                    result.edges.append({"from": parent, "to": target, "kind": node["relation"], "title": f"{derived.title}: {node['relation']} of {base.title}"})
                    following += [(child, target) for child in node["children"]]
                else:
                    hidden[min(distance + 1, depth + 1)] += _count(node["children"])
            level, distance = following, distance + 1
        hidden[1] = max(hidden[1], direct.get(side, 0) - shown[1])
        if lineage[side]["truncated"] and not any(hidden):  # the search stopped early: say so
            deepest = next(d for d in range(1, depth + 2) if d > depth or not shown[d])
            result.boxes.append(_more(sign * deepest, 0, "and more", center, properties, side))
        for distance in range(1, depth + 2):
            if hidden[distance]:
                plus = "+" if lineage[side]["truncated"] else ""
                row = shown[distance] if distance <= depth else 0
                result.boxes.append(_more(sign * distance, row, f"+{hidden[distance]:,}{plus} more", center, properties, side))
    _place(result)
    used = {e["kind"] for e in result.edges}
    result.kinds = [{"kind": k, "colour": c, "dash": d} for k, (c, d) in KINDS.items() if k in used]
    return result


def _more(column: int, row: int, text: str, center: dict, properties: dict[str, str], side: str) -> Box:
    href = _full_query(center.get("iri", ""), sorted(properties), side == "up")
    return Box(column, row, text, "the whole family in SPARQL", "list them all on the query page", href, None, "more")


def _count(nodes: list[dict]) -> int:
    return sum(1 + _count(n["children"]) for n in nodes if not n.get("repeat"))


def _place(result: Picture) -> None:
    columns = sorted({b.column for b in result.boxes})
    rows = {c: max(b.row for b in result.boxes if b.column == c) + 1 for c in columns}
    tallest = max(rows.values())
    for box in result.boxes:
        box.x = MARGIN + columns.index(box.column) * (NODE_W + COLUMN_GAP)
        offset = (tallest - rows[box.column]) * (NODE_H + ROW_GAP) / 2
        box.y = MARGIN + offset + box.row * (NODE_H + ROW_GAP)
    result.width = 2 * MARGIN + len(columns) * NODE_W + (len(columns) - 1) * COLUMN_GAP
    result.height = 2 * MARGIN + tallest * (NODE_H + ROW_GAP) - ROW_GAP + LEGEND_H
    for edge in result.edges:
        left, right = sorted((edge["from"], edge["to"]), key=lambda b: b.column)
        x1, y1, x2, y2 = left.x + NODE_W, left.y + NODE_H / 2, right.x, right.y + NODE_H / 2
        if left.column == right.column:  # relatives at the same distance: a loop on their right
            x2, bend = x1, (x1 + COLUMN_GAP / 2, x1 + COLUMN_GAP / 2)
        else:
            bend = ((x1 + x2) / 2, (x1 + x2) / 2)
        colour, dash = KINDS.get(edge["kind"], ("#59636e", ""))
        del edge["from"], edge["to"]  # plain data from here on (it crosses the worker's pipe)
        edge.update(path=f"M{x1:.0f},{y1:.0f} C{bend[0]:.0f},{y1:.0f} {bend[1]:.0f},{y2:.0f} {x2:.0f},{y2:.0f}", colour=colour, dash=dash)
