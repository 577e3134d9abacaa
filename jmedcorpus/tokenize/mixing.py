"""Group weights → the weighted prefix list Megatron's ``--data-path`` takes, and token shares.

Megatron treats a blend's weights as *sampling shares*: normalized, each is the fraction of
training samples drawn from that prefix, whatever its size. A per-token rate ("case reports 2×")
therefore becomes, for each shard ``s`` of group ``g``::

    weight(s) = w_g × tokens(s) / Σ_s' w_g' × tokens(s')

so a weight-2 group's tokens are drawn twice as often as a weight-1 group's, and a group's share
of training tokens is ``w_g × tokens_g / Σ w × tokens``. The file lists ``weight prefix`` pairs,
one per line; Megatron-LM reads it with ``--data-args-path TOK/data_paths.txt`` (it splits the
file on whitespace) or as ``--data-path $(cat TOK/data_paths.txt)``. Groups of weight 0 are left
out. The weights are not part of the tokenized data: re-running with another ``--mix`` rewrites
only this file and the manifest.
"""

from __future__ import annotations

import os


def blend(shards: list[dict], weights: dict[str, float], data_root: str) -> tuple[str, dict]:
    """``(data_paths text, {group: share})`` for the written ``shards`` (each with ``group``,
    ``prefix`` relative to the output and ``tokens``)."""
    total = sum(weights[s["group"]] * s["tokens"] for s in shards)
    lines, shares = [], {g: 0.0 for g in weights}
    for s in shards:
        w = weights[s["group"]] * s["tokens"] / total if total else 0.0
        if w > 0:
            lines.append(f"{w:.12g} {os.path.join(data_root, s['prefix'])}")
            shares[s["group"]] += w
    return "".join(line + "\n" for line in lines), {g: round(v, 12) for g, v in shares.items()}
