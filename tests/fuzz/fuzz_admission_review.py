"""Fuzz target: the webhook's AdmissionReview decoder (``seawall.admission.review``), which
reads every request body the API server (or anyone reaching the port) sends, and the
response written for what it accepts. Anything but a ReviewError is a bug."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from seawall.admission.review import ReviewError, parse_review, response_body


def TestOneInput(data: bytes) -> None:
    try:
        request = parse_review(data)
    except ReviewError:
        return
    response_body(request, allowed=False, message="denied", warnings=["w"] * 30)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
