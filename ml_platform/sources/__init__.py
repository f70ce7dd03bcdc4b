"""Where raw tables come from: the :class:`~ml_platform.sources.base.DataSource` contract, retries,
and one module per built-in source kind (``landing_dir``, ``http``, ``sql``, ``s3``), each registered
by name. Other kinds come from plugins (entry point group ``ml_platform.sources``)."""
