"""``jmedcorpus synth``: its options (``--help`` explains each with an example), the recipe
overrides they make, and the summary printed at the end. The logic is in
:mod:`jmedcorpus.pipelines.synth`."""

from __future__ import annotations

import argparse
import json
import sys

from jmedcorpus.cli_options import add_cluster, add_input, add_output, add_reporting
from jmedcorpus.errors import UserError


def add_synth_parser(sub) -> None:
    """Add ``synth`` to the ``jmedcorpus`` subcommands; its handler is :func:`cmd_synth`."""
    from jmedcorpus.synth.prompts import available_templates

    p = sub.add_parser(
        "synth",
        help="generate exam-style or free-form QA from a built corpus with an LLM, validated and grounded",
        description="Generate synthetic QA from the passages of a built corpus: passages → prompts → LLM → "
        "parse → validate (format, Japanese, grounded, not duplicate, not contaminated) → Parquet shards.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SYNTH_EPILOG.format(templates=", ".join(available_templates())),
    )
    p.add_argument(
        "recipe", nargs="?", metavar="RECIPE", help="YAML synth recipe (default: recipes/synth_exam.yaml)"
    )
    add_input(p, "PATH", "output of `jmedcorpus build` (OUT or OUT/data), or Parquet files with id and text")
    add_output(p, "QA", "output directory (re-running on it resumes)")
    p.add_argument(
        "--model",
        "-m",
        metavar="MODEL",
        help="local model directory or Hugging Face id already downloaded (openai: the server's model name)",
    )
    p.add_argument(
        "--engine",
        choices=["vllm", "openai", "transformers"],
        help="vllm (GPU, Ray actors), openai (any OpenAI-compatible server), transformers (CPU/one GPU); default vllm",
    )
    p.add_argument("--template", metavar="ID", help="prompt template id (default: the recipe's, exam_mcq_v1)")
    p.add_argument(
        "--passages", "-n", type=int, metavar="N", help="passages to generate from (default: the recipe's)"
    )
    p.add_argument("--seed", type=int, help="seed of the passage sample and of sampling (default 0)")
    p.add_argument("--temperature", type=float, help="sampling temperature; 0 is greedy (default 0.7)")
    p.add_argument(
        "--max-tokens", type=int, metavar="N", help="most tokens generated per item (default 1024)"
    )
    p.add_argument(
        "--min-tokens",
        type=int,
        metavar="N",
        help="fewest tokens generated before end-of-sequence may stop an item (default 0: no floor)",
    )
    p.add_argument(
        "--decontaminate-against",
        action="append",
        default=[],
        metavar="JSONL",
        help="benchmark questions (JSONL with a 'text' field) that generated items must not overlap; repeatable",
    )
    p.add_argument(
        "--base-url", metavar="URL", help="openai engine: the server, e.g. http://127.0.0.1:8000/v1"
    )
    p.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="openai engine: environment variable holding the API key (default OPENAI_API_KEY)",
    )
    p.add_argument(
        "--concurrency", type=int, metavar="N", help="openai engine: requests in flight (default 16)"
    )
    p.add_argument(
        "--tensor-parallel-size",
        type=int,
        metavar="N",
        help="vllm engine: GPUs per model replica (default 1)",
    )
    p.add_argument(
        "--device", metavar="DEV", help="transformers engine: cpu, cuda, ... (default: cuda if available)"
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let vllm/transformers run code shipped with the model (off by default; only for models you trust)",
    )
    p.add_argument(
        "--retry-errors",
        action="store_true",
        help="on a re-run, redo the chunks where the engine failed (served answers come from the cache)",
    )
    add_cluster(
        p,
        "CPUs of the local Ray for the passage stage (default: all)",
        "run on an existing Ray cluster (e.g. 'auto')",
    )
    _add_check_options(p)
    _add_ehr_options(p)
    add_reporting(p, "print the manifest's counts and throughput as JSON")


def _add_check_options(p) -> None:
    g = p.add_argument_group("model checks (off by default; recipe sections answer_check and judge)")
    g.add_argument(
        "--answer-check",
        action="store_true",
        help="let the model answer each accepted exam item k times without its key and reject it when "
        "most answers differ (synth_answer_mismatch); e.g. --answer-check --answer-k 5",
    )
    g.add_argument(
        "--answer-k",
        type=int,
        metavar="K",
        help="answers per item of --answer-check (default 3: the key needs 2); e.g. --answer-k 5",
    )
    g.add_argument(
        "--judge",
        action="store_true",
        help="score each accepted item 1-5 with a model against the rubric judge_v1 and reject scores under "
        "--judge-min-score (synth_judge_below_floor; unreadable: synth_judge_unparseable); e.g. --judge",
    )
    g.add_argument(
        "--judge-min-score",
        type=int,
        metavar="N",
        help="the judge's floor, 1-5 (default 3); e.g. --judge --judge-min-score 4",
    )
    g.add_argument(
        "--judge-model",
        metavar="MODEL",
        help="another model as judge (default: the generation model); e.g. --judge --judge-model "
        "Qwen2.5-72B-Instruct --judge-engine openai --judge-base-url http://127.0.0.1:8001/v1",
    )
    g.add_argument(
        "--judge-engine",
        choices=["vllm", "openai", "transformers"],
        help="the judge's engine (default: the generation engine, or the same kind of engine for --judge-model)",
    )
    g.add_argument(
        "--judge-base-url",
        metavar="URL",
        help="openai judge engine: its server; e.g. --judge-engine openai --judge-base-url http://127.0.0.1:8001/v1",
    )


def _add_ehr_options(p) -> None:
    g = p.add_argument_group("EHR lab-name normalization (--template ehr_lab_name_v1)")
    g.add_argument(
        "--master",
        metavar="CSV",
        help="standard-name master: CSV rows code,standard name (JLAC10-style); required by the template; "
        "e.g. --template ehr_lab_name_v1 --master jlac10_lab.csv",
    )
    g.add_argument(
        "--local-names",
        metavar="FILE",
        help="local lab-test names to normalize, one per line (default: names found in the passages, "
        "'AST 93 U/L' -> AST); e.g. --template ehr_lab_name_v1 --master m.csv --local-names names.txt",
    )


SYNTH_EPILOG = """\
examples:
  jmedcorpus synth --input out/ --output qa/ --model /models/Qwen2.5-7B-Instruct
  jmedcorpus synth --input out/ --output qa/ --engine openai --base-url http://127.0.0.1:8000/v1 --model qwen -n 2000
  jmedcorpus synth recipes/synth_free.yaml --input out/ --output qa-free/ --model M --decontaminate-against igakuqa.jsonl
  jmedcorpus synth --input out/ --output qa-cpu/ --engine transformers --model ./tiny --temperature 0 -n 20
  jmedcorpus synth --input out/ --output qa-checked/ --model M --answer-check --judge --judge-min-score 4
  jmedcorpus synth --input out/ --output ehr/ --model M --template ehr_lab_name_v1 --master jlac10_lab.csv

prompt templates: {templates}

output:
  QA/data/train-XXXXX.parquet            accepted items: messages (chat format for SFT), question, options,
                                         answer, explanation, source_id, passage span, model, prompt_version, ...
  QA/rejected/part-XXXXX.parquet         every rejected generation with reason(s), detail and the raw output
                                         (and, with --judge, the judge's raw output)
                                         model checks on both: answer_check_answers/_agreement, judge_score, judge
  QA/manifest.json                       settings, versions, counts per reason, judge score and agreement
                                         distributions, prompts/s and tokens/s
A killed run resumes when re-run with the same command: answered requests are not sent again.
"""


def cmd_synth(args) -> int:
    """Run ``jmedcorpus synth`` from parsed arguments and print its summary."""
    import os

    from jmedcorpus.pipelines.synth import SynthOptions, synth
    from jmedcorpus.synth.config import load_synth_recipe, override

    recipe = load_synth_recipe(args.recipe)
    recipe.template = args.template or recipe.template
    recipe.engine = override(recipe.engine, name=args.engine, model=args.model)
    for section, key, value in (
        ("openai", "base_url", args.base_url),
        ("openai", "api_key_env", args.api_key_env),
        ("openai", "concurrency", args.concurrency),
        ("vllm", "tensor_parallel_size", args.tensor_parallel_size),
        ("transformers", "device", args.device),
        ("vllm", "trust_remote_code", args.trust_remote_code or None),
        ("transformers", "trust_remote_code", args.trust_remote_code or None),
    ):
        if value is not None:
            getattr(recipe.engine, section)[key] = value
    recipe.sampling = override(
        recipe.sampling,
        seed=args.seed,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        min_tokens=args.min_tokens,
    )
    recipe.passages = override(recipe.passages, n=args.passages)
    _apply_check_options(recipe, args)
    recipe.ehr = override(recipe.ehr, master=args.master, local_names=args.local_names)
    opts = SynthOptions(
        inputs=args.input,
        output=args.output,
        recipe=recipe,
        decontaminate_against=args.decontaminate_against,
        ray_address=args.ray_address,
        progress=not args.no_progress and sys.stderr.isatty(),
        retry_errors=args.retry_errors,
    )
    if args.workers is not None:
        if args.workers < 1:
            raise UserError(f"--workers must be >= 1, got {args.workers}")
        opts.workers = args.workers
    m = synth(opts)
    c, t = m["counts"], m["throughput"]
    if args.json:
        print(
            json.dumps(
                {"output": os.path.abspath(args.output), "counts": c, "throughput": t},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    units = "local names" if "local_names" in m["selection"] else "passages"
    print(
        f"{units} {c['passages']:,}  accepted {c['accepted']:,}  rejected {c['rejected']:,}  "
        f"(engine errors {c['engine_errors']:,})"
    )
    for reason, n in list(c["rejected_by_reason"].items())[:6]:
        print(f"  {reason:<34}{n:>8,}")
    rate = t["prompts_per_second"]
    print(
        f"requests sent {t['requests_sent']:,}, from cache {t['requests_from_cache']:,}; "
        + (
            f"{rate:.2f} prompts/s, {t['generated_tokens_per_second']:.0f} generated tokens/s; "
            if rate
            else ""
        )
        + f"pipeline {t['pipeline_ms_per_prompt'] or 0:.1f} ms/prompt"
    )
    if "model_checks" in m:
        print(check_summary(m["model_checks"]))
    print(f"{c['accepted']:,} items in {len(m['shards'])} shard(s) under {args.output.rstrip('/')}/data")
    return 0


def _apply_check_options(recipe, args) -> None:
    from jmedcorpus.synth.config import override

    recipe.answer_check = override(recipe.answer_check, enabled=args.answer_check or None, k=args.answer_k)
    recipe.judge = override(recipe.judge, enabled=args.judge or None, min_score=args.judge_min_score)
    for key, value in (("model", args.judge_model), ("name", args.judge_engine)):
        if value is not None:
            recipe.judge.engine = {**recipe.judge.engine, key: value}
    if args.judge_base_url is not None:  # a server: the openai engine unless --judge-engine says otherwise
        openai = {**recipe.judge.engine.get("openai", {}), "base_url": args.judge_base_url}
        recipe.judge.engine = {"name": "openai", **recipe.judge.engine, "openai": openai}


def check_summary(checks: dict) -> str:
    """One line per model check: the agreement and the judge score distributions.

    >>> print(check_summary({"items_checked": 4, "mean_agreement": 0.75, "agreement_histogram": {"0.5": 2, "1.0": 2},
    ...     "mean_score": 3.5, "score_distribution": {"1": 0, "2": 0, "3": 2, "4": 2, "5": 0, "unparseable": 0},
    ...     "answer_check": {}, "judge": {"rubric": "judge_v1"}}))
    answer check: 4 items, mean agreement 0.75 (0.5: 2, 1.0: 2)
    judge (judge_v1): mean score 3.5; 1: 0, 2: 0, 3: 2, 4: 2, 5: 0, unparseable: 0
    """
    lines = []
    if "answer_check" in checks:
        hist = ", ".join(f"{k}: {v:,}" for k, v in checks["agreement_histogram"].items())
        lines.append(
            f"answer check: {checks['items_checked']:,} items, mean agreement {checks['mean_agreement']} ({hist})"
        )
    if "judge" in checks:
        dist = ", ".join(f"{k}: {v:,}" for k, v in checks["score_distribution"].items())
        lines.append(f"judge ({checks['judge']['rubric']}): mean score {checks['mean_score']}; {dist}")
    return "\n".join(lines)
