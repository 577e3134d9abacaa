"""Output shards: each group's documents, in corpus order, cut into Megatron datasets of at most
``shard_tokens`` tokens (a single longer document is a shard of its own), and the Ray task that
writes one.

Shards are cut from the units' token counts only, so the same corpus and settings give the same
shards whatever the number of workers. A shard is ``TOK/<group>/part-NNNNN.bin`` and ``.idx``:
the ``.bin`` is written to a hidden temporary name and renamed, then the ``.idx`` the same way,
last (an old ``.idx`` is removed first): a shard whose ``.idx`` exists is complete.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from jmedcorpus.tokenize.megatron import index_bytes
from jmedcorpus.tokenize.units import load_sizes

COPY_BYTES = 16 << 20


def plan_shards(
    groups: list[str], unit_keys: list[str], unit_dirs: dict[str, str], results: dict, shard_tokens: int
) -> list[dict]:
    """``[{"group", "prefix", "slices": [(unit_dir, first_doc, end_doc)], "documents", "tokens"}]``,
    groups in order, then corpus order; ``prefix`` is relative to the output directory."""
    plan = []
    for group in groups:
        pieces = [k for k in unit_keys if group in results[k]["groups"]]
        if not pieces:
            continue
        sizes = [load_sizes(unit_dirs[k], group) for k in pieces]
        starts = np.cumsum([0] + [len(s) for s in sizes])
        cum = np.concatenate([[0], np.cumsum(np.concatenate(sizes), dtype=np.int64)])
        n, s, part = int(starts[-1]), 0, 0
        while s < n:
            e = max(int(np.searchsorted(cum, cum[s] + shard_tokens, side="right")) - 1, s + 1)
            slices = []
            for k, (a, b) in enumerate(itertools.pairwise(starts)):
                lo, hi = max(s, int(a)), min(e, int(b))
                if lo < hi:
                    slices.append((unit_dirs[pieces[k]], lo - int(a), hi - int(a)))
            plan.append(
                {
                    "group": group,
                    "prefix": f"{group}/part-{part:05d}",
                    "slices": slices,
                    "documents": e - s,
                    "tokens": int(cum[e] - cum[s]),
                }
            )
            s, part = e, part + 1
    return plan


def shard_sizes(shard: dict) -> np.ndarray:
    """Tokens per document of a planned shard, from its units' sizes."""
    parts = [load_sizes(d, shard["group"])[a:b] for d, a, b in shard["slices"]]
    return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)


def write_shard(shard: dict, out: str, dtype_name: str) -> dict:
    """Ray task: copy the shard's slices of the units' token files into ``out/<prefix>.bin`` and
    write its ``.idx`` (see the module docstring)."""
    dtype = np.dtype(dtype_name)
    prefix = os.path.join(out, shard["prefix"])
    directory, name = os.path.split(prefix)
    os.makedirs(directory, exist_ok=True)
    tmp_bin = os.path.join(directory, f".{name}.bin.tmp-{os.getpid()}")
    tmp_idx = os.path.join(directory, f".{name}.idx.tmp-{os.getpid()}")
    sizes = []
    with open(tmp_bin, "wb") as dst:
        for unit_dir, a, b in shard["slices"]:
            unit_sizes = load_sizes(unit_dir, shard["group"])
            offset = int(unit_sizes[:a].sum(dtype=np.int64)) * dtype.itemsize
            length = int(unit_sizes[a:b].sum(dtype=np.int64)) * dtype.itemsize
            with open(os.path.join(unit_dir, f"{shard['group']}.bin"), "rb") as src:
                src.seek(offset)
                while length:
                    chunk = src.read(min(COPY_BYTES, length))
                    if not chunk:
                        raise OSError(f"token file of unit {os.path.basename(unit_dir)} is truncated")
                    dst.write(chunk)
                    length -= len(chunk)
            sizes.append(unit_sizes[a:b])
        dst.flush()
        os.fsync(dst.fileno())
    all_sizes = np.concatenate(sizes) if sizes else np.zeros(0, np.int32)
    with open(tmp_idx, "wb") as f:
        f.write(index_bytes(all_sizes, dtype))
        f.flush()
        os.fsync(f.fileno())
    if os.path.exists(prefix + ".idx"):
        os.remove(prefix + ".idx")  # never an old index beside a new .bin
    os.replace(tmp_bin, prefix + ".bin")
    os.replace(tmp_idx, prefix + ".idx")
    return {
        "prefix": shard["prefix"],
        "documents": len(all_sizes),
        "tokens": int(all_sizes.sum(dtype=np.int64)),
        "bin_bytes": os.path.getsize(prefix + ".bin"),
    }
