"""``seawall agent``: the long-running reporter on a Docker host (docs/agent.md).

:mod:`~seawall.agent.spool` keeps what the center cannot take yet, bounded;
:mod:`~seawall.agent.delivery` posts envelopes and decides what an answer means;
:mod:`~seawall.agent.run` runs the rounds and the run-time watcher.
"""
