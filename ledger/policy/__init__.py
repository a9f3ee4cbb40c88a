"""The controller's policy: purposes, legal bases, categories, recipients, retention."""
