"""Keys: the per-subject data keys, the master key that wraps them, and field sealing."""
