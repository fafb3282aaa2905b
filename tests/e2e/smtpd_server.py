"""A real SMTP server for the end-to-end tests: usher's mail worker (libcurl)
delivers to it, the tests read what arrived from its spool folder.

As a script it serves in the foreground until SIGTERM or SIGINT:

    /usr/bin/python3 smtpd_server.py --port P --spool DIR --cert CERT --key KEY
        [--user U --password PW] [--reject-rcpt-regex RE] [--fail-code C]
        [--implicit-tls]

It listens on 127.0.0.1:P (P = 0 picks a free port) and prints "READY <port>"
once listening.  By default the session starts in plain text, offers STARTTLS
and requires it: any command but EHLO, NOOP, STARTTLS and QUIT gets 530
before it.  With --implicit-tls the connection is TLS from the first byte
(smtps).  With --user, AUTH PLAIN or LOGIN with exactly these credentials is
required before MAIL (530 without it, 535 for wrong credentials), and only
over TLS.  RCPT TO addresses that RE matches (re.search) are refused with
C (default 550) "C X.1.1 rejected by test server", X being C's first digit.

Each accepted message lands in DIR as two files sharing a name:
    <n>-<uuid>.json  {"mail_from", "rcpt_tos", "auth_user", "tls",
                      "received_at"}, written first;
    <n>-<uuid>.eml   the DATA bytes as aiosmtpd hands them over (CRLF line
                     ends kept, dot-stuffing undone), renamed into place
                     last, so a reader that sees the .eml finds its .json.
n counts arrivals, continuing from the spool's highest number at startup so
that the order holds across restarts.

As a module it gives the tests make_cert() and SmtpServer, which runs the
script as a child process.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import select
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
import warnings

from aiosmtpd.smtp import SMTP, AuthResult

PYTHON = "/usr/bin/python3"     # Debian's python, the one with aiosmtpd
OPENSSL = "/usr/bin/openssl"
SCRIPT = os.path.abspath(__file__)
HOST = "127.0.0.1"
MESSAGE_RE = re.compile(r"^(\d+)-[0-9a-f-]{36}\.(eml|json)$")


# --------------------------------------------------------------- server

class SpoolHandler:
    """aiosmtpd handler: refuses the recipients the regex matches and
    stores every accepted message in the spool folder."""

    def __init__(self, spool, reject_rcpt_re=None, fail_code=550):
        self.spool = spool
        self.reject_rcpt_re = reject_rcpt_re
        self.reject_reply = "%d %d.1.1 rejected by test server" % (
            fail_code, fail_code // 100)
        numbers = [int(m.group(1)) for m in map(MESSAGE_RE.match,
                                                os.listdir(spool)) if m]
        self.counter = itertools.count(max(numbers, default=0) + 1)

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.reject_rcpt_re and self.reject_rcpt_re.search(address):
            return self.reject_reply
        # A handler that implements this hook records the recipient itself.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Plain blocking writes: the files are small and local, and the
        # single-threaded loop keeps the arrival numbers in order.
        name = "%06d-%s" % (next(self.counter), uuid.uuid4())
        base = os.path.join(self.spool, name)
        login = session.auth_data if session.authenticated else None
        envelope_json = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": login,
            # After STARTTLS, or with implicit TLS, the transport is TLS.
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "received_at": time.time(),
        }
        with open(base + ".json", "w") as f:
            json.dump(envelope_json, f)
        # The temporary name matches neither *.eml nor MESSAGE_RE.
        temp = os.path.join(self.spool, "." + name + ".tmp")
        with open(temp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(temp, base + ".eml")
        return "250 2.0.0 OK queued as " + name


def authenticator_for(user, password):
    """An aiosmtpd authenticator accepting exactly user:password; on
    success the session's auth_data is the user name (a str)."""
    user_b, password_b = user.encode(), password.encode()

    def authenticate(server, session, envelope, mechanism, auth_data):
        if auth_data.login == user_b and auth_data.password == password_b:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)    # 535
    return authenticate


async def serve(args):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    os.makedirs(args.spool, exist_ok=True)
    handler = SpoolHandler(args.spool, args.reject_rcpt_regex, args.fail_code)
    authenticator = (authenticator_for(args.user, args.password)
                     if args.user is not None else None)

    def new_session():
        return SMTP(
            handler,
            hostname="localhost",   # no socket.getfqdn() per connection
            tls_context=None if args.implicit_tls else tls,
            require_starttls=not args.implicit_tls,
            auth_required=authenticator is not None,
            # aiosmtpd only counts STARTTLS as TLS, so with implicit TLS it
            # would refuse AUTH (aio-libs/aiosmtpd#281); every byte is
            # encrypted there anyway.
            auth_require_tls=not args.implicit_tls,
            authenticator=authenticator)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(
        new_session, HOST, args.port,
        ssl=tls if args.implicit_tls else None)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()
    # asyncio.run() then cancels the sessions still open.


def regex(text):
    """argparse type: a compiled regular expression."""
    try:
        return re.compile(text)
    except re.error as e:
        raise ValueError(e) from None   # argparse reports ValueError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--spool", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--reject-rcpt-regex", type=regex)
    p.add_argument("--fail-code", type=int, default=550)
    p.add_argument("--implicit-tls", action="store_true")
    args = p.parse_args(argv)
    if (args.user is None) != (args.password is None):
        p.error("--user and --password go together")
    if not 400 <= args.fail_code <= 599:
        p.error("--fail-code must be a 4xx or 5xx code")
    # aiosmtpd logs every session at INFO and a deprecation per AUTH at
    # WARNING; keep stderr for errors.  Its warning about AUTH without
    # STARTTLS does not apply to implicit TLS.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    asyncio.run(serve(args))


# ------------------------------------------------------------ test API

def make_cert(dirpath):
    """Writes a self-signed EC P-256 certificate for localhost (SAN
    DNS:localhost, IP:127.0.0.1, valid 2 days) into dirpath; returns
    (certfile, keyfile)."""
    certfile = os.path.join(dirpath, "smtpd-cert.pem")
    keyfile = os.path.join(dirpath, "smtpd-key.pem")
    subprocess.run(
        [OPENSSL, "req", "-x509", "-nodes", "-days", "2",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", keyfile, "-out", certfile],
        check=True, capture_output=True)
    return certfile, keyfile


class SmtpServer:
    """The script above as a child process, with its spool readable here.

    The port is picked at the first start() (unless given) and kept across
    restarts.  cafile is the certificate a client must trust; it and the
    child's stderr (smtpd.log) live in certdir, a temporary folder unless
    given.
    """

    def __init__(self, spool, port=None, user=None, password=None,
                 reject_rcpt_regex=None, fail_code=550, implicit_tls=False,
                 certdir=None):
        self.spool = os.fspath(spool)
        os.makedirs(self.spool, exist_ok=True)
        self._port = port
        self._options = ["--fail-code", str(fail_code)]
        if user is not None:
            self._options += ["--user", user, "--password", password]
        if reject_rcpt_regex is not None:
            self._options += ["--reject-rcpt-regex", reject_rcpt_regex]
        if implicit_tls:
            self._options.append("--implicit-tls")
        self._tempdir = None
        if certdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="usher-smtpd-")
            certdir = self._tempdir.name
        self.certdir = os.fspath(certdir)
        os.makedirs(self.certdir, exist_ok=True)
        self.cafile, self.keyfile = make_cert(self.certdir)
        self.logfile = os.path.join(self.certdir, "smtpd.log")
        self._proc = None

    @property
    def port(self):
        return self._port

    def start(self, timeout=10.0):
        if self._proc is not None:
            raise RuntimeError("SMTP server already running")
        # stderr goes to a file: a pipe nobody reads could fill and stall
        # the server.
        with open(self.logfile, "ab") as log:
            log_start = log.tell()
            self._proc = subprocess.Popen(
                [PYTHON, SCRIPT, "--port", str(self._port or 0),
                 "--spool", self.spool, "--cert", self.cafile,
                 "--key", self.keyfile] + self._options,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        line = self._read_line(timeout)
        if not line.startswith("READY "):
            self.stop()
            with open(self.logfile, "rb") as log:
                log.seek(log_start)
                stderr = log.read().decode(errors="replace")
            raise RuntimeError("SMTP server did not start (stdout %r):\n%s"
                               % (line, stderr))
        self._port = int(line.split()[1])

    def _read_line(self, timeout):
        """The child's first line on stdout, "" on EOF or timeout."""
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ""
            chunk = os.read(fd, 256)
            if not chunk:
                return ""
            data += chunk
        return data.decode().strip()

    def stop(self):
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._proc = None

    def restart(self):
        self.stop()
        self.start()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def _names(self, ext):
        """The spool's message files ending in ext, in arrival order."""
        found = []
        for name in os.listdir(self.spool):
            m = MESSAGE_RE.match(name)
            if m and m.group(2) == ext:
                found.append((int(m.group(1)), name))
        return [name for _, name in sorted(found)]

    def messages(self):
        """[{"path", "raw", "envelope"}] of the messages received, oldest
        first."""
        result = []
        for name in self._names("eml"):
            path = os.path.join(self.spool, name)
            with open(path, "rb") as f:
                raw = f.read()
            with open(path[:-len(".eml")] + ".json") as f:
                envelope = json.load(f)
            result.append({"path": path, "raw": raw, "envelope": envelope})
        return result

    def wait_for(self, count, timeout=10.0):
        """messages() once there are at least count of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    "expected %d message(s) within %gs, got %d: %r"
                    % (count, timeout, len(found),
                       [m["envelope"] for m in found]))
            time.sleep(0.05)

    def clear(self):
        """Deletes the messages received so far."""
        for name in self._names("eml") + self._names("json"):
            os.unlink(os.path.join(self.spool, name))


if __name__ == "__main__":
    sys.exit(main())
