"""Gatekeeper compatibility: ConstraintTemplates (Rego through regorus, CEL through
cel-expr-python), Constraints with Gatekeeper's match semantics, and gator test suites."""
