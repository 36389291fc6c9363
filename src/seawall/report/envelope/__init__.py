"""Engine results in the one result contract (:mod:`seawall.contract`): one module per
engine turns its native result into an :class:`~seawall.contract.envelope.Envelope`."""
