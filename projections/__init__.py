"""Projections: pure folds (state, recorded event) -> state. No I/O in this package."""
