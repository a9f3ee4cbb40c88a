"""Event families: one module per kind of fact, one topic per family."""
