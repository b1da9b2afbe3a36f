"""The HTTP side of ``syndbot run``: ``health`` (pure checks), ``metrics`` (Prometheus) and
``server`` (Starlette under uvicorn). Later the review page joins the same listener.

Nothing here imports the pipeline: the service hands in the config, the store and a
``Metrics`` object that the pipeline reports to through ``bot.observe.Observer``. Import
the submodules directly: ``bot.web.health`` stays light for ``syndbot health``.
"""
