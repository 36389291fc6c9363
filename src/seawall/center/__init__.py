"""The Seawall center: one place that stores what the engines report and answers what runs,
how exposed it is, what to fix first and what is happening now.

``app.create_app`` builds the FastAPI application: ``store/`` (SQLAlchemy models and Alembic
migrations), ``ingest`` (result envelopes into the store, findings followed by fingerprint),
``posture`` (recommendations and the secure score), ``queries/`` (the read side, scoped and
paginated), ``api/`` (``/api/v1``), ``web/`` (the dashboard, Jinja2 and htmx) and ``jobs``
(background work in-process). The center imports the engines; no engine imports it.
"""
