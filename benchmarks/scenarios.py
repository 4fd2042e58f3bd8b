"""The scenarios, run in order against one server: ingest (batches of N and of 1, new events
then pure duplicate replays, each followed by the plain floor on the same request bodies;
then the 3-metric mix), then — with the ledger topped up to >= 1M events — current-usage read
latency and rebuild speed.

A replay scenario needs its "new" scenario's events in the ledger, and the read/rebuild
scenarios need the preload, so ``--scenario X`` runs those prerequisites untimed first.
"""

from benchmarks.dbrun import INGEST, DbRun, create_metrics
from benchmarks.ingest import ingest_dup, ingest_new
from benchmarks.phases import cpu_ratio
from benchmarks.reads import read, rebuild

# what ``__main__``, ``profile`` and ``workers`` import from here
__all__ = ["INGEST", "RUNNERS", "DbRun", "cpu_ratio", "create_metrics"]

RUNNERS = {
    "batch_new": lambda run: ingest_new(run, "batch_new"),
    "batch_mix": lambda run: ingest_new(run, "batch_mix"),
    "batch_dup": lambda run: ingest_dup(run, "batch_dup"),
    "single_new": lambda run: ingest_new(run, "single_new"),
    "single_dup": lambda run: ingest_dup(run, "single_dup"),
    "read_current": lambda run: read(run, "read_current"),
    "read_periods": lambda run: read(run, "read_periods"),
    "read_history": lambda run: read(run, "read_history"),
    "rebuild": rebuild,
}
