"""Webhook, Slack and Teams channels against a real HTTP server."""

from __future__ import annotations

import json
import time

import pytest

from seawall.center.notify import (
    DeliveryError,
    SignatureError,
    SlackChannel,
    TeamsChannel,
    Timeouts,
    WebhookChannel,
    verify_signature,
)
from seawall.center.notify.channels.http import MAX_RESPONSE
from tests.center.notify.conftest import Receiver, make_notification

SECRET = "s3cret"


def test_webhook_body_and_signature(receiver: Receiver) -> None:
    channel = WebhookChannel(receiver.url("/hook"), SECRET)
    batch = [make_notification(), make_notification(severity="low", dedupe_key="other")]
    channel.deliver(batch)
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert [n["severity"] for n in body["notifications"]] == ["critical", "low"]
    first = body["notifications"][0]
    assert first["kind"] == "new_critical_finding"
    assert first["resource"]["cluster"] == "prod"
    assert first["facts"] == [["Package", "xz-utils 5.6.0"], ["Fixed in", "5.6.1"]]
    assert first["occurred_at"] == "2024-05-06T07:08:09.123456+00:00"
    assert request.headers["content-type"] == "application/json"
    header = request.headers["seawall-signature"]
    verify_signature(SECRET, header, request.body, now=time.time())
    # The same body gets the same delivery id on a retry.
    channel.deliver(batch)
    assert receiver.requests[1].headers["seawall-delivery"] == request.headers["seawall-delivery"]


def test_signature_refuses_tampering_replay_and_wrong_secret(receiver: Receiver) -> None:
    WebhookChannel(receiver.url("/hook"), SECRET, clock=lambda: 1_700_000_000).deliver(
        [make_notification()]
    )
    (request,) = receiver.requests
    header, body = request.headers["seawall-signature"], request.body
    verify_signature(SECRET, header, body, now=1_700_000_100)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, header, body.replace(b"CVE", b"CVF"), now=1_700_000_000)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature(SECRET, header, body, now=1_700_000_301)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("other", header, body, now=1_700_000_000)
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature(SECRET, "v1=abc", body, now=1_700_000_000)
    # A rotated secret: either v1 may match.
    t, v1 = header.split(",")
    verify_signature(SECRET, f"{t},v1=deadbeef,{v1}", body, now=1_700_000_000)


def test_slack_payload(receiver: Receiver) -> None:
    hostile = make_notification(title="<!channel> pwn & <http://evil|click>")
    SlackChannel(receiver.url("/slack")).deliver([hostile])
    payload = json.loads(receiver.requests[0].body)
    assert "<!channel>" not in json.dumps(payload)
    assert payload["text"].startswith("[Seawall] CRITICAL: &lt;!channel&gt; pwn &amp;")
    header, section, actions = payload["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert section["text"]["type"] == "mrkdwn"
    assert "*[CRITICAL] &lt;!channel&gt; pwn" in section["text"]["text"]
    assert actions["elements"][0]["url"] == "https://seawall.example/findings/1"


def test_teams_payload(receiver: Receiver) -> None:
    TeamsChannel(receiver.url("/teams")).deliver([make_notification()])
    payload = json.loads(receiver.requests[0].body)
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "[Seawall] CRITICAL: CVE-2024-3094 in xz-utils 5.6.0"
    assert card["body"][2] == {
        "type": "FactSet",
        "facts": [
            {"title": "Package", "value": "xz-utils 5.6.0"},
            {"title": "Fixed in", "value": "5.6.1"},
        ],
    }
    assert card["actions"][0]["url"] == "https://seawall.example/findings/1"


@pytest.mark.parametrize("make", [
    lambda url: WebhookChannel(url, SECRET),
    lambda url: SlackChannel(url),
    lambda url: TeamsChannel(url),
])  # fmt: skip
@pytest.mark.parametrize(
    ("path", "retryable"),
    [("/status/500", True), ("/status/503", True), ("/status/429", True),
     ("/status/408", True), ("/status/400", False), ("/status/404", False),
     ("/redirect", False)],
)  # fmt: skip
def test_http_failures(receiver: Receiver, make, path: str, retryable: bool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DeliveryError) as caught:
        make(receiver.url(path)).deliver([make_notification()])
    assert caught.value.retryable is retryable
    code = path.rsplit("/", 1)[1] if path.startswith("/status/") else "302"
    assert caught.value.reason.startswith(f"HTTP {code}")
    assert len(caught.value.reason) <= 300
    assert "\x1b" not in caught.value.reason


def test_slow_receiver_times_out_quickly(receiver: Receiver) -> None:
    channel = WebhookChannel(receiver.url("/slow"), SECRET, timeouts=Timeouts(1, 0.5))
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="timed out") as caught:
        channel.deliver([make_notification()])
    assert caught.value.retryable
    assert time.monotonic() - started < 2


def test_huge_answer_is_read_bounded(receiver: Receiver) -> None:
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="HTTP 500: x") as caught:
        SlackChannel(receiver.url("/huge")).deliver([make_notification()])
    assert caught.value.retryable
    assert time.monotonic() - started < 5
    assert MAX_RESPONSE == 64 * 1024


def test_connection_refused_is_retryable() -> None:
    from tests.center.notify.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(DeliveryError, match="connection failed") as caught:
        WebhookChannel(url, SECRET).deliver([make_notification()])
    assert caught.value.retryable


@pytest.mark.parametrize("url", ["ftp://x/y", "file:///etc/passwd", "javascript:alert(1)",
                                 "/relative", "http://"])  # fmt: skip
def test_only_http_urls(url: str) -> None:
    for make in (lambda: WebhookChannel(url, SECRET), lambda: SlackChannel(url)):
        with pytest.raises(ValueError, match="invalid URL"):
            make()
    with pytest.raises(ValueError, match="invalid URL"):
        TeamsChannel(url)


def test_empty_secret_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookChannel("http://127.0.0.1/hook", "")
