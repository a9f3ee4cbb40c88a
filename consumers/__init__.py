"""The loops that read topics, apply projections, checkpoint and report."""
