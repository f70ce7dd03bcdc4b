"""One module per stage of the asset graph: ingestion (raw), cleaning (cleaned + quarantine),
features, training (model), evaluation (report) and deployment; thin wiring over ``ml/``."""
