"""Gatekeeper compatibility: ConstraintTemplates (Rego through regorus, CEL through
cel-python), Constraints with Gatekeeper's match semantics, and gator test suites."""
