"""Benchmarks of the ledger side by side with baselines: ``python -m bench [--quick]``.

One module per benchmark (``ingest``, ``rebuild``, ``query``, ``erasure``, ``rss``);
``data`` builds the events, ``es_baseline`` the eventsourcing-library baseline,
``common`` the shared context, results and statistics. Results and what limits each
figure: docs/BENCHMARKS.md. Never imported by the tests: no timing is ever asserted.
"""
