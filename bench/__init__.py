"""Benchmarks of the DESIGN.md performance targets (not tests: nothing here asserts timing).

`make bench` (= `python -m bench`) runs every benchmark in one process tree on this machine, prints a
table and writes docs/benchmarks.md. Each benchmark is also a function that takes its sizes as
arguments, so tests/test_bench_smoke.py can run it at a tiny size:

    bench.callback_bench.run(kind, requests=..., concurrency=...)   # the /wecom/callback pipeline
    bench.score_bench.run(units=...)                                  # "我的得分" latency
    bench.tally_bench.run(sizes=(...))                                # the year-end tally
    bench.reminder_bench.run(units=...)                               # one reminder tick (plan)
"""
