"""Recommendations and the secure score, the way Defender for Cloud rolls findings up:
each recommendation lists its unhealthy, healthy and not-applicable resources; security
controls group recommendations and carry points; the score is what the healthy resources
earn. Recomputed in the ingest that changed them, not every 8 hours."""
