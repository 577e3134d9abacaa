"""``jmedcorpus tokenize``: a built corpus → Megatron-LM indexed datasets (``.bin`` + ``.idx``).

- :mod:`~jmedcorpus.tokenize.megatron`: the MMIDIDX index format, written and read.
- :mod:`~jmedcorpus.tokenize.settings`: options, the YAML ``tokenize:`` section, groups and weights.
- :mod:`~jmedcorpus.tokenize.tokenizer`: the Hugging Face tokenizer, its hash, batched encoding.
- :mod:`~jmedcorpus.tokenize.units`: work units (row ranges of the build's shards) and the Ray
  task that tokenizes one.
- :mod:`~jmedcorpus.tokenize.shards`: output shards of a token budget cut from the units, and the
  Ray task that writes one.
- :mod:`~jmedcorpus.tokenize.mixing`: group weights → Megatron's ``--data-path`` list and shares.
- :mod:`~jmedcorpus.tokenize.manifest`: ``TOK/manifest.json``, the mix beside it, the summary.

The driver is :mod:`jmedcorpus.pipelines.tokenize`.
"""
