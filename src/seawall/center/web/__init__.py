"""The dashboard: server-rendered pages (Jinja2) with htmx for the interactive parts; no
JavaScript build step. Every page reads through ``seawall.center.queries`` with the signed-in
user's scope, exactly as the API does."""
