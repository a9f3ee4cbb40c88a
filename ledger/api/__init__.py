"""The HTTP API (``pdl serve``): the reports of ``ledger.reports`` and the Prometheus
metrics, behind bearer tokens with roles (``ledger.api.auth``); ``ledger.api.app``
builds the ASGI application."""
