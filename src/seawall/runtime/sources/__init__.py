"""Event sources: each module turns one kind of input into :class:`Event` objects and
declares the fields its events carry (see :mod:`seawall.runtime.events`)."""
