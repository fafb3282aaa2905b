"""Self-check of smtpd_server, the SMTP server the mail tests deliver to,
driven by smtplib (a real client over real TLS).  Needs no usher stack; the
suite's conftest.py does, so run these alone with:

    cd tests/e2e && /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        --noconftest test_smtpd_selfcheck.py
"""

import contextlib
import os
import smtplib
import ssl
import time

import pytest

from smtpd_server import SmtpServer

USER, PASSWORD = "mailer", "s3cret-Pass"
SENDER = "noreply@usher.test"


@pytest.fixture
def start_server(tmp_path):
    """start_server(**options) -> a running SmtpServer spooling into
    tmp_path/spool; every server started is stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda **options: stack.enter_context(
            SmtpServer(tmp_path / "spool", **options))


def message(subject):
    """A small message with CRLF line ends, as smtplib sends bytes as-is."""
    return ("From: %s\r\nTo: user@example.com\r\nSubject: %s\r\n\r\n"
            "Hello.\r\n" % (SENDER, subject)).encode()


def connect(server, login=True):
    """An SMTP session past STARTTLS (and AUTH when login), verifying the
    server's certificate."""
    tls = ssl.create_default_context(cafile=server.cafile)
    client = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    client.starttls(context=tls)
    client.ehlo()               # smtplib forgets the features on STARTTLS
    if login:
        client.login(USER, PASSWORD)
    return client


def test_starttls_required(start_server):
    server = start_server(user=USER, password=PASSWORD)
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")     # not offered in plain text
        assert client.mail(SENDER)[0] == 530
        assert client.docmd("AUTH", "PLAIN")[0] == 530
    assert server.messages() == []


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_required(start_server, mechanism):
    server = start_server(user=USER, password=PASSWORD)
    with connect(server, login=False) as client:
        assert client.has_extn("auth")
        assert client.mail(SENDER)[0] == 530    # AUTH first
        answer = getattr(client, "auth_" + mechanism.lower())
        client.user, client.password = USER, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            client.auth(mechanism, answer)
        assert e.value.smtp_code == 535
        client.password = PASSWORD
        assert client.auth(mechanism, answer)[0] == 235
        assert client.mail(SENDER)[0] == 250

def test_delivery(start_server):
    server = start_server(user=USER, password=PASSWORD)
    raw = message("one") + b".leading dot\r\n"
    before = time.time()
    with connect(server) as client:
        assert client.sendmail(SENDER, ["a@example.com", "b@example.com"],
                               raw) == {}
    [got] = server.wait_for(1)
    assert got["raw"] == raw
    assert got["envelope"]["mail_from"] == SENDER
    assert got["envelope"]["rcpt_tos"] == ["a@example.com", "b@example.com"]
    assert got["envelope"]["auth_user"] == USER
    assert got["envelope"]["tls"] is True
    assert before <= got["envelope"]["received_at"] <= time.time()
    # Exactly one message, and no temporary file left behind.
    base = got["path"][:-len(".eml")]
    assert sorted(os.listdir(server.spool)) == \
        [os.path.basename(base) + ext for ext in (".eml", ".json")]
    server.clear()
    assert server.messages() == []


def test_delivery_without_auth(start_server):
    server = start_server()
    with connect(server, login=False) as client:
        client.sendmail(SENDER, ["a@example.com"], message("no auth"))
    [got] = server.wait_for(1)
    assert got["envelope"]["auth_user"] is None
    assert got["envelope"]["tls"] is True


def test_restart_keeps_port_and_order(start_server):
    server = start_server(user=USER, password=PASSWORD)
    port = server.port
    with connect(server) as client:
        client.sendmail(SENDER, ["a@example.com"], message("before"))
    server.restart()
    assert server.port == port
    with connect(server) as client:
        client.sendmail(SENDER, ["a@example.com"], message("after"))
    got = server.wait_for(2)
    assert [m["raw"] for m in got] == [message("before"), message("after")]


def test_many_connections(start_server):
    server = start_server(user=USER, password=PASSWORD)
    for i in range(50):
        with connect(server) as client:
            client.sendmail(SENDER, ["a@example.com"], message("n%d" % i))
    got = server.wait_for(50)
    assert [m["raw"] for m in got] == \
        [message("n%d" % i) for i in range(50)]


def test_wait_for_reports_what_arrived(start_server):
    server = start_server()
    with pytest.raises(AssertionError, match="expected 1 message.*got 0"):
        server.wait_for(1, timeout=0.2)


@pytest.mark.parametrize("code, text", [
    (550, b"5.1.1 rejected by test server"),
    (451, b"4.1.1 rejected by test server"),
])
def test_rejected_recipients(start_server, code, text):
    server = start_server(user=USER, password=PASSWORD,
                          reject_rcpt_regex=r"@blocked\.example$",
                          fail_code=code)
    with connect(server) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            client.sendmail(SENDER, ["x@blocked.example"], message("no"))
        assert e.value.recipients == {"x@blocked.example": (code, text)}
        # With one good recipient the message goes through to that one.
        refused = client.sendmail(
            SENDER, ["x@blocked.example", "ok@example.com"], message("yes"))
        assert refused == {"x@blocked.example": (code, text)}
    [got] = server.wait_for(1)
    assert got["envelope"]["rcpt_tos"] == ["ok@example.com"]


def test_implicit_tls(start_server):
    server = start_server(user=USER, password=PASSWORD, implicit_tls=True)
    tls = ssl.create_default_context(cafile=server.cafile)
    # "localhost" checks the certificate's DNS name, the others its IP.
    with smtplib.SMTP_SSL("localhost", server.port, context=tls,
                          timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        assert client.mail(SENDER)[0] == 530    # AUTH still required
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            client.login(USER, "wrong")
        assert e.value.smtp_code == 535
        client.login(USER, PASSWORD)
        client.sendmail(SENDER, ["a@example.com"], message("smtps"))
    [got] = server.wait_for(1)
    assert got["envelope"]["tls"] is True
    assert got["envelope"]["auth_user"] == USER

