"""An SMTP submission server for tests: aiosmtpd on 127.0.0.1 with STARTTLS
required (a certificate from a throwaway CA made by trustme) and AUTH
required (PLAIN and LOGIN, only after STARTTLS). Each message it accepts is
written to the inbox folder as NNNN.eml, with NNNN.json holding its envelope
and session (sender, recipients, whether it was authenticated and
encrypted). Recipients at refused.example are refused with 550.

    python smtp-server.py INFO_FILE INBOX

writes {"url", "ca", "inbox"} to INFO_FILE once it listens.
"""
import json
import os
import socket
import ssl
import sys

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = b"mailer@example.com"
PASSWORD = b"smtp-password-0123"

info_file, inbox = sys.argv[1], sys.argv[2]
os.makedirs(inbox, exist_ok=True)

ca = trustme.CA()
server_cert = ca.issue_cert("127.0.0.1", "localhost")
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
server_cert.configure_cert(context)
ca_path = os.path.join(inbox, "ca.pem")
ca.cert_pem.write_to_path(ca_path)


class Inbox:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.example"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        count = len([name for name in os.listdir(inbox) if name.endswith(".eml")])
        base = os.path.join(inbox, f"{count:04d}")
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "authenticated": bool(session.authenticated),
                    "encrypted": session.ssl is not None,
                },
                f,
            )
        return f"250 2.0.0 Ok: queued as {count:04d}"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER and auth_data.password == PASSWORD
    return AuthResult(success=ok, handled=False)


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()

controller = Controller(
    Inbox(),
    hostname="127.0.0.1",
    port=port,
    tls_context=context,
    require_starttls=True,
    auth_required=True,
    auth_require_tls=True,
    authenticator=authenticate,
)
controller.start()
with open(info_file + ".tmp", "w") as f:
    json.dump({"url": f"smtp://127.0.0.1:{port}", "ca": ca_path, "inbox": inbox}, f)
os.rename(info_file + ".tmp", info_file)
try:
    import signal

    signal.sigwait({signal.SIGTERM, signal.SIGINT})
finally:
    controller.stop()
