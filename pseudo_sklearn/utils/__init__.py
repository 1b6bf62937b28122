"""Internal utilities of pseudo_sklearn."""
