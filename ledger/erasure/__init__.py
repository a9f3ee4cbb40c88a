"""Erasure you can prove: what a scope means in keys, legal holds, retention due dates,
signed and chained certificates, and the verifier that reads the raw topics.

Everything here is pure or works through the ports (``EventLog``, ``KeyStore``); the
loop that carries erasure requests out is ``consumers/erasure.py``.
"""
