"""A task's search tree as a graphviz graph, and its rendering with `dot`.

A tree of a long run has thousands of nodes: the graph keeps the root, the path to the node of the
best sample, and the most visited nodes, up to `max_nodes`, with their ancestors so that it stays
one tree. Each node shows its id, visits, the best GFLOP/s of its subtree and the transformations
on the edge from its parent (or, for a design-space sample, the proposer's rationale); its colour
grows darker with its best GFLOP/s. The texts come from the trace: they are escaped for dot's
quoted strings and never reach a shell.
"""

import math
import os
import shutil
import subprocess

import numpy as np

from .trace import column_text

MAX_LABEL_LINES = 4
MAX_LINE_CHARS = 48
# Light to dark blue: the share of the task's best GFLOP/s that a node's subtree reached.
SHADES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6"]


def dot_quoted(s):
    """`s` as a dot quoted string: backslashes and quotes escaped, control characters dropped,
    lines joined with dot's centred line break."""
    out = []
    for c in s:
        if c == "\n":
            out.append("\\n")
        elif c in '\\"':
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(" ")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def short_lines(s):
    """At most MAX_LABEL_LINES lines of at most MAX_LINE_CHARS characters."""
    lines = [ln.strip() for ln in s.strip().splitlines() if ln.strip()]
    shown = [ln if len(ln) <= MAX_LINE_CHARS else ln[: MAX_LINE_CHARS - 3] + "..." for ln in lines[:MAX_LABEL_LINES]]
    if len(lines) > MAX_LABEL_LINES:
        shown.append(f"(+{len(lines) - MAX_LABEL_LINES} more steps)")
    return shown


def select_nodes(tree, best_node, max_nodes):
    """Ids of the nodes to draw: root, the best node's path, then the most visited, with ancestors."""
    parent = dict(zip(tree["id"].tolist(), tree["parent"].tolist()))
    seen = {i for i, p in parent.items() if p not in parent}  # the roots
    if best_node is not None:
        seen.update(ancestry(parent, best_node))
    for k in np.argsort(-tree["visits"], kind="stable"):
        if len(seen) >= max_nodes:
            break
        seen.update(ancestry(parent, int(tree["id"][k])))
    return seen


def ancestry(parent, node):
    """`node` and its ancestors, nearest first; stops at a node seen twice (a trace is input from
    others: its parent links need not form a tree)."""
    path, seen = [], set()
    while node in parent and node not in seen:
        path.append(node)
        seen.add(node)
        node = parent[node]
    return path


def best_measured_node(tree):
    """The node whose subtree holds the best GFLOP/s and that is deepest: the node that measured
    it (every ancestor carries the same best). None when nothing was measured."""
    finite = np.isfinite(tree["best_gflops"])
    if not finite.any():
        return None
    top = np.nanmax(tree["best_gflops"])
    parent = dict(zip(tree["id"].tolist(), tree["parent"].tolist()))

    candidates = [int(i) for i, g in zip(tree["id"], tree["best_gflops"]) if g == top]
    return max(candidates, key=lambda node: len(ancestry(parent, node)))


def tree_dot(task, heading, max_nodes=40):
    """The dot text of `task`'s tree (task.tree must not be None), titled `heading` and the count of
    nodes shown."""
    tree = task.tree
    samples = task.samples
    # A node's rationale: that of the sample that measured it (the tree's `sample` column; the
    # samples' `node` of a many-rank run are ids in the ranks' own trees, not in this one).
    why_of_sample = {}
    if len(samples) and "rationale" in samples.dtype.names:
        why_of_sample = dict(zip(samples["index"].tolist(), column_text(samples, "rationale")))
    rationale = {}
    if "sample" in tree.dtype.names:
        for node, sample in zip(tree["id"].tolist(), tree["sample"].tolist()):
            if why_of_sample.get(sample):
                rationale[node] = why_of_sample[sample]
    best_node = best_measured_node(tree)
    top = float(np.nanmax(tree["best_gflops"])) if best_node is not None else 0.0
    shown = select_nodes(tree, best_node, max_nodes)
    parent = dict(zip(tree["id"].tolist(), tree["parent"].tolist()))
    best_path = set(ancestry(parent, best_node))
    children = {}
    for i, p in parent.items():
        children.setdefault(p, []).append(i)
    actions = column_text(tree, "action")

    n = len(tree)
    title = heading + "\n" + (
        f"all {n} nodes" if len(shown) >= n else f"{len(shown)} of {n} nodes: the root, the best path, the most visited"
    )
    lines = [
        "digraph search_tree {",
        f"  label={dot_quoted(title)}; labelloc=t; fontsize=14; rankdir=LR; ranksep=0.3; nodesep=0.15;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        "  edge [color=gray40];",
    ]
    for k in range(len(tree)):
        i = int(tree["id"][k])
        if i not in shown:
            continue
        best = float(tree["best_gflops"][k])
        head = f"#{i}  visits {int(tree['visits'][k])}"
        head += f"  best {best:.1f} GFLOP/s" if math.isfinite(best) else "  not measured"
        label = [head]
        if parent[i] not in parent:
            label.append("(root: unscheduled)")
        elif actions[k].strip():
            label += short_lines(actions[k])
        elif i in rationale:
            label += short_lines("sample: " + rationale[i])
        hidden = sum(1 for c in children.get(i, []) if c not in shown)
        if hidden:
            label.append(f"(+{hidden} children not shown)")
        share = best / top if math.isfinite(best) and top > 0 else 0.0
        fill = SHADES[min(len(SHADES) - 1, int(share * (len(SHADES) - 1) + 0.5))] if share > 0 else "#ffffff"
        font = "white" if fill in SHADES[-2:] else "black"
        border = ', color="#d62728", penwidth=2.5' if i in best_path else ""
        lines.append(f'  n{i} [label={dot_quoted(chr(10).join(label))}, fillcolor="{fill}", fontcolor={font}{border}];')
    for i in sorted(shown):
        p = parent[i]
        if p in shown:
            style = ' [color="#d62728", penwidth=2.5]' if i in best_path and p in best_path else ""
            lines.append(f"  n{p} -> n{i}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def find_dot():
    """The path of graphviz's `dot`, or None."""
    return shutil.which("dot")


def render(dot_exe, dot_path, png_path, fmt="png"):
    """Runs `dot -T<fmt> -o PNG DOT` (an argument list, no shell). Returns None, or why it failed."""
    try:
        r = subprocess.run(
            # Absolute paths: a relative one that starts with `-` would be read as an option.
            [dot_exe, f"-T{fmt}", "-o", os.path.abspath(png_path), os.path.abspath(dot_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode != 0:
        return (r.stderr.strip() or f"exit status {r.returncode}").splitlines()[-1]
    return None
