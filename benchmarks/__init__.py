"""Committed benchmarks. Each ``bench_<name>.py`` exposes ``main(argv: list[str]) -> int`` and prints
its figures as ratios against a reference measured in the same run. Inputs are generated under
``benchmarks/.data/`` (git-ignored), never committed."""
