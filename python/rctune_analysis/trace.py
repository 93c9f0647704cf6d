"""One rctune trace (docs/trace-format.md) read into numpy arrays.

`Trace(path)` holds the run's attributes, its tasks in run order (each with its samples sorted by
index and its search tree), the `/ranks` table and the task scheduler's rounds (`/allocations`).
A table the file does not have is None. Strings come back from h5py as bytes in tables; `text()`
turns any of them into str (invalid UTF-8 becomes U+FFFD: a trace may come from others).
"""

import os

import h5py
import numpy as np

FORMAT = "rctune-trace"
FORMAT_VERSIONS = (1,)
# The `status` enum of the samples table, for files whose dtype lost its enum mapping.
DEFAULT_STATUS = {"ok": 0, "compile_error": 1, "runtime_error": 2, "timeout": 3, "wrong_result": 4, "illegal": 5}


class TraceError(Exception):
    """A file that cannot be read as an rctune trace; the message names the file and the cause."""


def text(value):
    """A str from an HDF5 string (bytes, numpy bytes or str)."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def column_text(table, field):
    """The strings of one field of a structured array, as a list of str."""
    return [text(v) for v in table[field]]


def _table(group, name):
    return group[name][:] if name in group and isinstance(group[name], h5py.Dataset) else None


class Task:
    """One task of a run: its attributes, samples (sorted by index) and search tree."""

    def __init__(self, group):
        a = group.attrs
        self.name = text(a.get("name", group.name.rsplit("/", 1)[-1]))
        self.group = group.name.rsplit("/", 1)[-1]
        self.order = int(a.get("order", 0))
        self.weight = float(a.get("weight", 1.0))
        self.flops = float(a.get("flops", 0.0))
        self.reference_seconds = float(a.get("reference_seconds", 0.0))
        self.reference_gflops = float(a.get("reference_gflops", 0.0))
        self.library_name = text(a.get("library_name", b"")).rstrip("\0")
        self.library_gflops = float(a.get("library_gflops", 0.0))
        samples = _table(group, "samples")
        if samples is None:
            samples = np.zeros(0, dtype=[("index", "<i8"), ("status", "i1"), ("gflops", "<f8")])
            self.status = dict(DEFAULT_STATUS)
        else:
            self.status = h5py.check_enum_dtype(group["samples"].dtype["status"]) or dict(DEFAULT_STATUS)
        self.samples = samples[np.argsort(samples["index"], kind="stable")]
        tree = _table(group, "tree")
        self.tree = tree if tree is not None and len(tree) else None

    def measured(self):
        """The samples that count against the budget: every status but `illegal`, in index order."""
        return self.samples[self.samples["status"] != self.status["illegal"]]

    def measured_gflops(self):
        """GFLOP/s of each measured sample in index order; NaN where the sample failed."""
        m = self.measured()
        ok = (m["status"] == self.status["ok"]) & np.isfinite(m["gflops"])
        return np.where(ok, m["gflops"], np.nan)


class Trace:
    """An rctune trace: `attrs` (decoded run attributes), `tasks` in run order, `ranks`, `allocations`."""

    def __init__(self, path):
        self.path = path
        self.file_name = os.path.basename(path)
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise TraceError(f"trace file '{path}': cannot read: {e}") from None
        try:
            with f:
                self._read(f, path)
        except (OSError, KeyError, ValueError) as e:  # a damaged file: h5py's own errors
            raise TraceError(f"trace file '{path}': cannot read: {e}") from None
        self.strategy = self.attrs.get("strategy", "")
        self.proposer = self.attrs.get("proposer", "")
        self.num_ranks = int(self.attrs.get("num_ranks", 1))

    def _read(self, f, path):
        """Checks the format and reads everything of the open file `f`."""
        if text(f.attrs.get("format", "")) != FORMAT:
            raise TraceError(
                f"trace file '{path}': not an rctune trace: the root group has no attribute format = \"{FORMAT}\""
            )
        version = int(f.attrs.get("format_version", 0))
        if version not in FORMAT_VERSIONS:
            raise TraceError(f"trace file '{path}': trace format version {version} is not supported")
        self.attrs = {k: (text(v) if isinstance(v, (bytes, str, np.bytes_)) else v) for k, v in f.attrs.items()}
        groups = list(f["tasks"].values()) if "tasks" in f else []
        self.tasks = sorted((Task(g) for g in groups), key=lambda t: t.order)
        ranks = _table(f, "ranks")
        self.ranks = ranks if ranks is not None and len(ranks) else None
        allocations = _table(f, "allocations")
        self.allocations = allocations if allocations is not None and len(allocations) else None

    def task(self, name):
        """The task with this name (or HDF5 group name), or None."""
        return next((t for t in self.tasks if name in (t.name, t.group)), None)
