"""Turn site-file bytes into plain data, bounded in time and memory whatever the file holds.

A hostile file can be small and still expensive: anchors aliased into each other ("billion laughs")
expand to billions of values once something walks them, and an alias inside its own anchor makes a
loop. Both are refused here, before validation walks the document. libyaml (the C loader) parses,
which also bounds nesting depth.
"""

from __future__ import annotations

from typing import Any

import yaml

from securemode.problems import Problem

# How many values aliases may add to a document on top of the values written out (an anchor reused
# a few times in a site file adds tens; a billion-laughs file adds billions).
ALIAS_EXPANSION_BUDGET = 10_000
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentError(ValueError):
    """The bytes are not a usable YAML document; carries the one problem to report."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.render())


def decode(data: bytes, what: str = "site file") -> str:
    """The file as text; not UTF-8 is reported with the byte offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = f"byte {exc.start} (0x{data[exc.start]:02x})"
        raise DocumentError(Problem(field="(file)", message=f"not UTF-8 text: {bad} cannot be decoded",
                                    fix=f"save the {what} as UTF-8")) from None


def load_document(text: str) -> Any:
    """Parse YAML text into plain data; refuse syntax errors, alias loops and alias bombs."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise DocumentError(Problem(field="(file)", message=f"not valid YAML at {where}",
                                    fix="correct the YAML syntax there")) from None
    except RecursionError:
        raise DocumentError(Problem(field="(file)", message="values are nested too deeply",
                                    fix="flatten the nesting")) from None
    written, expanded = _sizes(document)
    if expanded - written > ALIAS_EXPANSION_BUDGET:
        raise DocumentError(Problem(field="(file)", message=f"aliases expand the document by more than "
                                    f"{ALIAS_EXPANSION_BUDGET} values", fix="write the values out instead of "
                                    "nesting aliases (*name) of anchors (&name)"))
    return document


def _sizes(document: Any) -> tuple[int, int]:
    """(values as written, values once every alias is expanded); an alias loop is refused.

    Iterative post-order walk with the expanded size of each container memoised by identity, so the
    cost is proportional to the distinct values, never to the expansion.
    """
    expanded: dict[int, int] = {}
    written = 0
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if not isinstance(node, dict | list) or key in expanded:
            continue
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        if children_done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded.get(id(c), 1) for c in children)
            written += 1 + sum(1 for c in children if not isinstance(c, dict | list))
            continue
        if key in on_path:
            raise DocumentError(Problem(field="(file)", message="an alias (*name) refers to its own anchor "
                                        "(&name), which makes an endless value", fix="remove the self-reference"))
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if isinstance(child, dict | list) and id(child) in on_path:
                raise DocumentError(Problem(field="(file)", message="an alias (*name) refers to its own anchor "
                                            "(&name), which makes an endless value", fix="remove the self-reference"))
            stack.append((child, False))
    return written, expanded.get(id(document), 1)
