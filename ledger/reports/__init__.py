"""Point-in-time reports for DPOs and supervisory authorities, built from the projections.

Pure builders (no HTTP, no printing): each report is a JSON-ready ``dict`` computed as of
an instant T and, where it matters, as known at an instant K, stating the log positions
it was computed from. ``ledger.reports.build.build_report`` picks the builder for a
kind; ``ledger.reports.render`` turns a report into canonical JSON, CSV or HTML. The CLI
(``pdl report``) and the HTTP API (``pdl serve``) both go through ``build_report``.
"""
