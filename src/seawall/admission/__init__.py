"""The validating admission webhook: AdmissionReview in, the policy engine's verdict out."""
