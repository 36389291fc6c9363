"""Rules over Kubernetes objects: built-in policies and Gatekeeper ConstraintTemplates.

One engine (:mod:`seawall.policy.engine`) gives the same verdict wherever an object comes
from: a manifest file (``seawall k8s scan``), a live cluster listing, or an AdmissionReview
(``seawall admission serve``).
"""
