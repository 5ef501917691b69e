"""The package reads top to bottom: every import points to the importer's own layer or a lower
one, and no module imports itself back through others.

Imports are read from the source with ``ast``, function-local and ``TYPE_CHECKING`` ones
included, so that a cycle cannot hide inside a function (:func:`infantpose.sources.import_graph`,
the graph whose closures key the caches).
"""

from __future__ import annotations

import pytest

from infantpose.sources import import_graph

#: The layers of ``infantpose``, lowest first (the package docstring and the README say the
#: same). A top-level module or subpackage may import from its own layer and the ones below.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0 foundation: joint layouts, configs, files, images, the pinhole camera, the optimiser,
    # the package's own source (import closures)
    (
        "camera",
        "checked",
        "compat",
        "config",
        "env",
        "images",
        "io",
        "keypoints",
        "logs",
        "optim",
        "progress",
        "sources",
    ),
    # 1 published formats, bodies, measures
    ("body", "data", "metrics", "runs", "tables"),
    # 2 the renderer: labelled images, no file format
    ("render",),
    # 3 datasets made with the renderer, and their cache
    ("synthesis",),
    # 4 the models of the papers
    ("lift3d", "pose2d", "shift"),
    # 5 figures, worked examples, the book driver
    ("book", "lab", "viz", "worked_examples"),
    # 6 entry points
    ("__init__", "__main__", "cli"),
)
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


GRAPH = import_graph()  # the graph the caches' code fingerprints walk too


def _room(module: str) -> str:
    """The top-level module or subpackage a module belongs to (``__init__`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_module_has_a_layer():
    rooms = {_room(m) for m in GRAPH}
    assert rooms <= set(LAYER_OF), f"give these a layer in LAYERS: {sorted(rooms - set(LAYER_OF))}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down_or_sideways(module):
    level = LAYER_OF[_room(module)]
    upward = sorted(
        f"{target} (layer {LAYER_OF[_room(target)]})"
        for target in GRAPH[module]
        if LAYER_OF[_room(target)] > level
    )
    assert not upward, f"{module} (layer {level}) imports from a higher layer: {upward}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back():
    assert _cycles(GRAPH) == []


def test_the_checks_see_function_local_imports_and_cycles():
    assert "infantpose.synthesis.cache" in GRAPH["infantpose.cli"]  # imported inside a function
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
