"""The service layer: settings, the composition root, and the use cases every entry point
(CLI, HTTP API, Python API) calls. Entry points parse and print; this layer decides."""
