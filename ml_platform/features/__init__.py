"""Feature building: the registry's built-in builders (``columns``) and the engine resource that
runs a spec's builder on pandas or Spark. Dataset-specific builders are plugins (entry point group
``ml_platform.feature_builders``), e.g. ``datasets/flights_delay``."""
