"""``/api/v1``: JSON, pydantic-validated, OpenAPI at ``/api/v1/openapi.json``. ``deps``
authenticates (bearer token or the dashboard's session) and checks roles; one router module
per resource."""
