"""Networks more than one zoo model or task uses (a model's own networks stay in its package)."""
