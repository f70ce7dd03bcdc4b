"""A worked plugin (docs/extending.md): a source kind, a feature builder, an estimator kind and a
notification channel, added to ml_platform through entry points only."""
