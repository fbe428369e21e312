"""TLS: certificates are verified; a failed handshake is ``tls_error``, not a crash.

The server is a real HTTPS server on 127.0.0.1 with a self-signed certificate made
here (the ``cryptography`` package comes with Airflow)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from newsroom.fetch import Fetcher, FetchPolicy

from .conftest import UA

x509 = pytest.importorskip("cryptography.x509")


def _self_signed(tmp_path):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path):
    cert, key = _self_signed(tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

        def handle(self):
            try:
                super().handle()
            except (ssl.SSLError, ConnectionResetError):
                pass

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


def test_untrusted_certificate_is_a_tls_error(https_server):
    with Fetcher(FetchPolicy(user_agent=UA, allow_private_networks=True, total_timeout=5)) as f:
        r = f.get(https_server)
    assert r.error == "tls_error"
    assert "certificate" in r.error_detail.lower()


def test_plain_http_on_https_url_is_a_tls_error(replay_server):
    replay_server.add("/", body=b"plain http")
    with Fetcher(FetchPolicy(user_agent=UA, allow_private_networks=True, total_timeout=5)) as f:
        r = f.get(f"https://127.0.0.1:{replay_server.port}/")
    assert r.error == "tls_error"
