"""An FTP server for tests: pyftpdlib on 127.0.0.1 with FTPS (AUTH TLS, a
certificate from a throwaway CA made by trustme, data connections
protected), a user with a password who may only log in over TLS, and an
anonymous user (plain FTP allowed) with a folder of their own. Its PASV
replies name 192.0.2.1 (TEST-NET-1, unroutable) instead of its own address:
a client that followed them would never connect, so every test through it
proves that passive data connections go to the control connection's
address.

    python ftp-server.py INFO_FILE ROOT

writes {"url", "ca", "root", "anonymous_root", "user", "password"} to
INFO_FILE once it listens.
"""
import json
import os
import sys

import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer

USER = "patchbay"
PASSWORD = "ftp-password-0123"

info_file, root = sys.argv[1], sys.argv[2]
files = os.path.join(root, "files")
anonymous = os.path.join(root, "anonymous")
os.makedirs(files, exist_ok=True)
os.makedirs(anonymous, exist_ok=True)

ca = trustme.CA()
server_cert = ca.issue_cert("127.0.0.1", "localhost")
ca_path = os.path.join(root, "ca.pem")
ca.cert_pem.write_to_path(ca_path)
cert_path = os.path.join(root, "server.pem")
with open(cert_path, "wb") as f:
    f.write(server_cert.private_key_pem.bytes())
    for blob in server_cert.cert_chain_pems:
        f.write(blob.bytes())


class Handler(TLS_FTPHandler):
    certfile = cert_path
    # The anonymous user may stay in clear; the password user may not.
    tls_control_required = False
    tls_data_required = False
    masquerade_address = "192.0.2.1"

    def ftp_PASS(self, line):
        if self.username == USER and not self._ssl_established:
            self.respond("530 A password is only taken over TLS.")
            return
        return super().ftp_PASS(line)


authorizer = DummyAuthorizer()
authorizer.add_user(USER, PASSWORD, files, perm="elradfmwMT")
authorizer.add_anonymous(anonymous, perm="elradfmwMT")
Handler.authorizer = authorizer
Handler.passive_ports = range(40000, 60000)

server = FTPServer(("127.0.0.1", 0), Handler)
port = server.socket.getsockname()[1]
with open(info_file + ".tmp", "w") as f:
    json.dump(
        {
            "url": f"ftp://127.0.0.1:{port}",
            "ca": ca_path,
            "root": files,
            "anonymous_root": anonymous,
            "user": USER,
            "password": PASSWORD,
        },
        f,
    )
os.rename(info_file + ".tmp", info_file)
server.serve_forever()
