"""`python3 -m rctune_analysis.plot --out DIR [--tasks A,B] [--format png] -- TRACE.h5...`

What `rctune plot` runs. Writes, into DIR, per task: the convergence figure (best GFLOP/s so far
against samples and wall time) and the samples' distribution; per trace: the time per rank (a
many-rank trace) and each task's search tree (graphviz .dot, rendered with `dot` when it is
installed); and the model's estimated latency over the task scheduler's rounds (traces with
`/allocations`). Prints the path of each file written, and one line `skipped: ...` for each figure
that does not apply. Exit status 0, 2 for a user's mistake (bad trace, unknown task), 3 when a
Python package is missing.
"""

import argparse
import os
import re
import sys

DEBIAN_PACKAGES = "python3-h5py python3-numpy python3-matplotlib"
EXIT_USAGE = 2
EXIT_MISSING_PACKAGE = 3


def printable(s):
    """A message for the terminal: texts from a trace may hold control characters."""
    return "".join(c if c.isprintable() else "?" for c in s)


def fail(message, status=EXIT_USAGE):
    print(f"rctune: error: plot: {printable(message)}", file=sys.stderr)
    sys.exit(status)


def import_dependencies():
    """Imports the packages the figures need, or exits naming the Debian packages to install."""
    try:
        import h5py  # noqa: F401
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        fail(
            f"{sys.executable} cannot import {e.name or e}: rctune plot needs h5py, numpy and matplotlib "
            f"(Debian: apt-get install {DEBIAN_PACKAGES}; or set RCTUNE_PYTHON to a python3 that has them)",
            EXIT_MISSING_PACKAGE,
        )


def slug(s, limit=80):
    """A file-name part from any text: characters outside [A-Za-z0-9_.+-] become `_`."""
    s = re.sub(r"[^A-Za-z0-9_.+-]", "_", s).strip("._") or "x"
    return s[:limit]


class Names:
    """Unique file names in the output directory: a clash gets `~2`, `~3`, ... appended."""

    def __init__(self, out_dir, fmt):
        self.out_dir, self.fmt, self.used = out_dir, fmt, set()

    def path(self, stem, ext=None):
        stem, ext, k = slug(stem, 160), ext or self.fmt, 1
        name = f"{stem}.{ext}"
        while name in self.used:
            k += 1
            name = f"{stem}~{k}.{ext}"
        self.used.add(name)
        return os.path.join(self.out_dir, name)


def trace_labels(traces):
    """Display labels: `strategy/proposer (file name)`, made unique by their position."""
    labels = [f"{t.strategy}/{t.proposer} ({t.file_name})" for t in traces]
    if len(set(labels)) < len(labels):
        labels = [f"[{k}] {label}" for k, label in enumerate(labels, start=1)]
    return labels


def trace_stems(traces):
    """File-name parts for per-trace figures: the file's stem, and its position when stems clash."""
    stems = [slug(os.path.splitext(t.file_name)[0], 40) for t in traces]
    if len(set(stems)) < len(stems):
        stems = [f"{k}_{s}" for k, s in enumerate(stems, start=1)]
    return stems


def parse_args(argv):
    p = argparse.ArgumentParser(prog="rctune plot", description="figures of rctune traces")
    p.add_argument("traces", nargs="+", help="HDF5 traces of rctune runs")
    p.add_argument("--out", required=True, help="directory for the figures (created if missing)")
    p.add_argument("--tasks", default="", help="only these tasks (names), comma-separated")
    p.add_argument("--format", default="png", choices=["png", "svg", "pdf"], help="image format")
    p.add_argument("--max-tree-nodes", type=int, default=40, help="nodes drawn of a search tree")
    return p.parse_args(argv)


def split_task_list(text, known):
    """The names in a comma-separated list whose names may hold commas themselves
    (`matmul:M=64,N=64,K=64`): at each position the longest run of pieces that is a known name."""
    pieces = text.split(",")
    out, i = [], 0
    while i < len(pieces):
        j = next((j for j in range(len(pieces), i, -1) if ",".join(pieces[i:j]).strip() in known), i + 1)
        name = ",".join(pieces[i:j]).strip()
        if name:
            out.append(name)
        i = j
    return out


def selected_tasks(traces, wanted_text):
    """Task names in order of first appearance over the traces, filtered by --tasks (task names or
    HDF5 group names)."""
    names = []
    for t in traces:
        for task in t.tasks:
            if task.name not in names:
                names.append(task.name)
    groups = {task.group: task.name for t in traces for task in t.tasks}
    wanted = split_task_list(wanted_text, set(names) | set(groups))
    if not wanted:
        return names
    chosen = []
    for w in wanted:
        name = w if w in names else groups.get(w)
        if name is None:
            fail(f"--tasks: no task '{w}' in the traces; their tasks: {', '.join(names) or '(none)'}")
        if name not in chosen:
            chosen.append(name)
    return chosen


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import_dependencies()
    from . import figures, tree_dot
    from .trace import Trace, TraceError

    try:
        traces = [Trace(p) for p in args.traces]
    except TraceError as e:
        fail(str(e))
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        fail(f"--out '{args.out}': cannot create the directory: {e.strerror}")
    names = Names(args.out, args.format)
    labels = trace_labels(traces)
    stems = trace_stems(traces)
    tasks = selected_tasks(traces, args.tasks)
    wrote = []

    def written(path):
        wrote.append(path)
        print(path, flush=True)

    def skipped(what, why):
        print(printable(f"skipped: {what}: {why}"), flush=True)

    for name in tasks:
        runs = [(label, t.task(name)) for label, t in zip(labels, traces) if t.task(name) is not None]
        runs = [(label, task) for label, task in runs if len(task.measured())]
        if not runs:
            skipped(f"task '{name}'", "no measured sample")
            continue
        path = names.path(f"{name}.convergence")
        figures.convergence(runs, f"{name}: best GFLOP/s so far", path)
        written(path)
        path = names.path(f"{name}.distribution")
        figures.distribution(runs, f"{name}: GFLOP/s of the samples", path)
        written(path)

    for label, stem, t in zip(labels, stems, traces):
        prefix = "" if len(traces) == 1 else f"{stem}."
        if t.ranks is None or len(t.ranks) < 2:
            why = "the run had one rank" if t.num_ranks < 2 else "the trace has no /ranks table"
            skipped(f"time per rank of {t.file_name}", why)
        else:
            path = names.path(f"{prefix}ranks")
            figures.rank_times(label, t.ranks, path)
            written(path)

    dot = tree_dot.find_dot()
    for label, stem, t in zip(labels, stems, traces):
        prefix = "" if len(traces) == 1 else f"{stem}."
        for name in tasks:
            task = t.task(name)
            if task is None:
                continue
            what = f"search tree of '{name}' in {t.file_name}"
            if task.tree is None:
                skipped(what, f"the trace has no tree for it (strategy {t.strategy} keeps none)")
                continue
            text = tree_dot.tree_dot(task, f"{name}\n{label}", args.max_tree_nodes)
            dot_path = names.path(f"{prefix}{name}.tree", "dot")
            with open(dot_path, "w", encoding="utf-8") as f:
                f.write(text)
            written(dot_path)
            if dot is None:
                skipped(f"rendering {dot_path}", "graphviz's dot is not installed (Debian: apt-get install graphviz)")
                continue
            image = names.path(f"{prefix}{name}.tree")
            error = tree_dot.render(dot, dot_path, image, args.format)
            if error:
                skipped(f"rendering {dot_path}", f"dot failed: {error}")
            else:
                written(image)

    with_rounds = []
    for label, t in zip(labels, traces):
        if t.allocations is None:
            skipped(f"model latency of {t.file_name}", "the trace has no task scheduler rounds (/allocations)")
        elif len(t.tasks) < 2:
            skipped(f"model latency of {t.file_name}", "the run has one task, not the tasks of a model")
        else:
            with_rounds.append((label, t))
    if with_rounds:
        path = names.path("model_latency")
        figures.model_latency(with_rounds, path)
        written(path)
    if not wrote:
        print("no figure written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
