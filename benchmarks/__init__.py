"""End-to-end performance benchmarks for the stripemeter server (`make bench`).

The harness starts real ``stripemeter serve`` processes (SQLite and PostgreSQL), drives them
over loopback HTTP from separate load-generator processes, verifies that the totals are
exact after every ingest scenario, and writes JSON + Markdown results to
``benchmarks/results/``. See ``benchmarks/README.md``.
"""
