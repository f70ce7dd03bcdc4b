"""The online endpoint: the champion model behind FastAPI (``ml-platform serve``).

``holder`` follows the registry alias and swaps fully loaded models atomically; ``schema`` checks JSON
rows against the model's MLflow signature (a 4xx naming the row and field, never a 500);
``prediction_log`` appends every answered request durably, partitioned by day, and reads it back for
monitoring; ``app`` is the FastAPI application; ``server`` runs it under uvicorn.
"""
