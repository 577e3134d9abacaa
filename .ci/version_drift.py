"""Print the packages whose installed version differs from constraints.txt (one line each).

Usage: VENV/bin/python .ci/version_drift.py constraints.txt
"""

import re
import sys
from importlib.metadata import distributions


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


pinned = {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if "==" in line:
        name, version = line.split("==", 1)
        pinned[canonical(name)] = version.strip()
installed = {canonical(d.metadata["Name"]): d.version.split("+", 1)[0] for d in distributions()}
changed = sorted(
    (name, pinned.get(name, "-"), installed.get(name, "-"))
    for name in pinned.keys() | installed.keys()
    if name not in ("jmedcorpus", "pip") and pinned.get(name) != installed.get(name)
)
print(f"version drift against {sys.argv[1]}: {len(changed)} package(s)")
for name, old, new in changed:
    print(f"  {name}: tested {old} -> now {new}")
