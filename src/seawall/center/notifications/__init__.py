"""The center's notifications: channels and rules as stored (:mod:`.channels`), problems
found by ingest and jobs turned into notifications (:mod:`.problems`), and the outbox that
carries them to their channels (:mod:`.outbox`). The message, templates, channel clients and
digest planning are :mod:`seawall.center.notify`."""
