"""The figures of `rctune plot`, drawn with matplotlib's Agg backend (no display needed).

Each function draws one figure and saves it to the path it is given:

- `convergence`: a task's best GFLOP/s so far against samples and against wall time, one line per
  trace (several traces), or per rank plus the run's overall (a many-rank trace), or per strategy;
- `distribution`: a task's samples' GFLOP/s, one box with its points per trace (or per rank), the
  failed samples counted below each box and in the title;
- `rank_times`: each rank's wall time split into search, measurement, communication, merging and
  the rest (the trace's `/ranks` table);
- `model_latency`: the model's estimated latency after each round of the task scheduler
  (`/allocations`), against the samples measured so far, one line per trace.

Texts from a trace (task names, file names) are shown as they are: `$` would start matplotlib's
math mode, so it is escaped.
"""

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from .trace import column_text  # noqa: E402

DPI = 120
plt.rcParams.update({"figure.dpi": DPI, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10})


def safe(s, width=90):
    """A trace's text for a title or legend: `$` escaped, control characters dropped, wrapped."""
    s = "".join(c if c.isprintable() else " " for c in s).replace("$", r"\$")
    return "\n".join(textwrap.wrap(s, width, break_long_words=True)) or "-"


def _save(fig, path):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _baselines(ax, runs, horizontal=True):
    """Dashed lines at the unscheduled kernel's and the library's GFLOP/s (from the first trace
    that measured them)."""
    ref = next((t.reference_gflops for _, t in runs if t.reference_gflops > 0), 0.0)
    lib = next(((t.library_gflops, t.library_name) for _, t in runs if t.library_gflops > 0), None)
    draw = ax.axhline if horizontal else ax.axvline
    if ref > 0:
        draw(ref, color="gray", linestyle="--", linewidth=1, label=f"unscheduled kernel ({ref:.3g} GFLOP/s)")
    if lib:
        draw(lib[0], color="black", linestyle=":", linewidth=1.2, label=f"{safe(lib[1])} ({lib[0]:.3g} GFLOP/s)")


def _best_so_far(gflops):
    return np.fmax.accumulate(gflops) if len(gflops) else gflops


def convergence_series(runs):
    """The lines of a task's convergence figure: (label, sample positions, wall times, best so far,
    whether it is the overall line of a trace split by rank or strategy). `runs` is a list of
    (trace label, Task) of the same task."""
    series = []
    for label, task in runs:
        m = task.measured()
        g = task.measured_gflops()
        pos = np.arange(1, len(m) + 1)
        wall = m["wall_time"] if "wall_time" in m.dtype.names else pos.astype(float)
        if len(runs) == 1:
            ranks = np.unique(m["rank"]) if "rank" in m.dtype.names else np.array([0])
            strategies = column_text(m, "strategy") if "strategy" in m.dtype.names else []
            if len(ranks) > 1:
                for r in ranks:
                    sel = m["rank"] == r
                    series.append((f"rank {int(r)}", pos[sel], wall[sel], _best_so_far(g[sel]), False))
                series.append(("all ranks", pos, wall, _best_so_far(g), True))
                continue
            kinds = sorted(set(strategies))
            if len(kinds) > 1:
                for k in kinds:
                    sel = np.array([s == k for s in strategies])
                    series.append((f"strategy {k}", pos[sel], wall[sel], _best_so_far(g[sel]), False))
                series.append(("all samples", pos, wall, _best_so_far(g), True))
                continue
        series.append((label, pos, wall, _best_so_far(g), False))
    return series


def convergence(runs, title, path):
    """Best GFLOP/s so far against samples (left) and wall time (right)."""
    fig, (by_sample, by_time) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True, layout="constrained")
    for label, pos, wall, best, emphasised in convergence_series(runs):
        # The overall line wide and light under the others, which it would hide where they agree.
        kw = {"linewidth": 4, "color": "black", "alpha": 0.3, "zorder": 1} if emphasised else {}
        line = by_sample.step(pos, best, where="post", label=safe(label, 60), **kw)[0]
        kw = {**kw, "color": line.get_color()}
        by_time.step(wall, best, where="post", **kw)
        by_sample.plot(pos, best, linestyle="none", marker=".", markersize=3, color=line.get_color())
    _baselines(by_sample, runs)
    _baselines(by_time, runs)
    by_sample.set_xlabel("samples measured (illegal proposals not counted)")
    by_sample.set_ylabel("best GFLOP/s so far")
    by_time.set_xlabel("wall time since the run started (s)")
    by_sample.set_ylim(bottom=0)
    by_sample.legend(fontsize=8, loc="lower right")
    fig.suptitle(safe(title))
    _save(fig, path)


def distribution_groups(runs):
    """(label, GFLOP/s of the correct samples, failed, illegal) per trace, or per rank of one trace."""
    groups = []
    for label, task in runs:
        m = task.measured()
        g = task.measured_gflops()
        illegal = len(task.samples) - len(m)
        ranks = np.unique(m["rank"]) if len(runs) == 1 and "rank" in m.dtype.names else []
        if len(ranks) > 1:
            for r in ranks:
                sel = m["rank"] == r
                gr = g[sel]
                groups.append((f"rank {int(r)}", gr[np.isfinite(gr)], int(np.isnan(gr).sum()), None))
            continue
        groups.append((label, g[np.isfinite(g)], int(np.isnan(g).sum()), illegal))
    return groups


def distribution(runs, title, path):
    """Each group's samples as points over a box plot; the failed ones counted."""
    groups = distribution_groups(runs)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(groups) + 3), 5), layout="constrained")
    rng = np.random.default_rng(0)
    ticks = []
    for k, (label, values, failed, illegal) in enumerate(groups, start=1):
        if len(values):
            ax.boxplot(values, positions=[k], widths=0.5, showfliers=False, medianprops={"color": "black"})
            ax.scatter(k + rng.uniform(-0.18, 0.18, len(values)), values, s=12, alpha=0.6, zorder=3)
        counts = f"{len(values)} correct, {failed} failed" + ("" if illegal is None else f", {illegal} illegal")
        ticks.append(safe(label, 28) + "\n" + counts)
    ax.set_xticks(range(1, len(groups) + 1), ticks, fontsize=8)
    ax.set_xlim(0.4, len(groups) + 0.6)
    _baselines(ax, runs)
    values = np.concatenate([v for _, v, _, _ in groups]) if groups else np.zeros(0)
    if len(values) and values.min() > 0 and values.max() / values.min() > 30:
        ax.set_yscale("log")
    ax.set_ylabel("GFLOP/s of each correct sample")
    failed = sum(f for _, _, f, _ in groups)
    measured = failed + len(values)
    ax.set_title(safe(title, 80) + f"\n{failed} of {measured} measured samples failed (not shown)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")
    _save(fig, path)


RANK_PARTS = [
    ("search_s", "search (select, expand, predict, propose)", "#1f77b4"),
    ("measure_s", "measure (compile, run)", "#2ca02c"),
    ("comm_s", "communication (MPI, waiting)", "#ff7f0e"),
    ("merge_s", "merge (statistics, trees)", "#9467bd"),
]


def rank_times(trace_label, ranks, path):
    """One horizontal bar per rank, its wall time split into the parts the trace records."""
    ranks = ranks[np.argsort(ranks["rank"], kind="stable")]
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.55 * len(ranks)), layout="constrained")
    y = np.arange(len(ranks))
    left = np.zeros(len(ranks))
    for field, label, color in RANK_PARTS:
        ax.barh(y, ranks[field], left=left, color=color, label=label)
        left += ranks[field]
    other = np.maximum(ranks["wall_s"] - left, 0)
    ax.barh(y, other, left=left, color="#c7c7c7", label="other (start-up, writing the trace)")
    hosts = column_text(ranks, "host")
    ax.set_yticks(
        y, [f"rank {int(r)} ({safe(h, 20)}, {int(s)} samples)" for r, h, s in zip(ranks["rank"], hosts, ranks["samples"])]
    )
    ax.invert_yaxis()
    ax.set_xlabel("seconds (the run's last session)")
    ax.set_title(safe(f"time per rank: {trace_label}"))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path)


def unscheduled_latency(trace):
    """The model's latency with every task unscheduled (sum of weight x reference time), or None."""
    if not trace.tasks or any(t.reference_seconds <= 0 for t in trace.tasks):
        return None
    return sum(t.weight * t.reference_seconds for t in trace.tasks)


def model_latency(runs, path):
    """The model's estimated latency after each round against the samples so far, one line per
    trace; `runs` is a list of (trace label, Trace) whose allocations exist."""
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    for label, trace in runs:
        a = trace.allocations
        so_far = np.cumsum(a["spent"])
        line = ax.plot(so_far, a["latency_s"] * 1e3, marker="o", markersize=3, drawstyle="steps-post",
                       label=safe(f"{label} ({len(a)} round{'' if len(a) == 1 else 's'}, scheduler {column_text(a, 'scheduler')[0]})", 70))[0]
        base = unscheduled_latency(trace)
        if base is not None and len(runs) == 1:
            ax.axhline(base * 1e3, color="gray", linestyle="--", linewidth=1,
                       label=f"every task unscheduled ({base * 1e3:.4g} ms)")
        elif base is not None:
            ax.axhline(base * 1e3, color=line.get_color(), linestyle="--", linewidth=0.8)
    ax.set_xlabel("samples measured so far (all tasks)")
    ax.set_ylabel("estimated model latency (ms)")
    ax.set_yscale("log")
    ax.set_title("estimated model latency after each round\n(sum over tasks of weight x best time per run; "
                 "untuned operators left out)")
    ax.legend(fontsize=8)
    _save(fig, path)
