"""Runs the ```python blocks of a Markdown file in order, in one namespace, as a reader would.

    RCTUNE_TRACE=run.h5 python3 python/tests/run_doc_examples.py docs/analysis.md

Each block runs as the file `DOC:LINE` (its first line in the document), so a traceback names the
block that failed. Exit status 0 when every block ran, 1 otherwise, 2 when the file has no block.
"""

import re
import sys
import traceback


def blocks(markdown):
    """(line of the block's first code line, code) of each ```python block."""
    out = []
    for m in re.finditer(r"^```python[ \t]*\n(.*?)^```[ \t]*$", markdown, flags=re.S | re.M):
        out.append((markdown.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return out


def main(path):
    with open(path, encoding="utf-8") as f:
        found = blocks(f.read())
    if not found:
        print(f"{path}: no ```python block", file=sys.stderr)
        return 2
    namespace = {"__name__": "__doc_example__"}
    for line, code in found:
        # Blank lines first, so that the line numbers of a traceback are those of the document.
        source = "\n" * (line - 1) + code
        try:
            exec(compile(source, path, "exec"), namespace)
        except Exception:  # the report of a failing example is the point of this script
            print(f"{path}: the example at line {line} failed:", file=sys.stderr)
            traceback.print_exc()
            return 1
    print(f"{path}: {len(found)} examples ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
