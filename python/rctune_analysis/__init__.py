"""Offline analysis of rctune's HDF5 traces (docs/analysis.md).

`trace` reads a trace into numpy arrays, `figures` draws the figures of `rctune plot` with
matplotlib, `tree_dot` writes a task's search tree for graphviz, and `plot` is the command line
that `rctune plot` runs (`python3 -m rctune_analysis.plot`). Only Debian's python3-h5py,
python3-numpy and python3-matplotlib are needed.
"""
