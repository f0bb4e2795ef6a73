"""HTTPS for the local portal: a self-signed certificate kept in the data dir, or the operator's own.

Clients that hard-code ``https://`` (soda-js, socrata-py) reach the portal unchanged once they trust
the certificate: ``REQUESTS_CA_BUNDLE=<data dir>/tls/cert.pem`` for requests-based clients,
``NODE_EXTRA_CA_CERTS=…`` for Node. The certificate is made by the ``openssl`` command (no Python
dependency): an EC P-256 key, valid for ``localhost``, ``127.0.0.1`` and ``::1`` (plus the bound
host), ``CA:TRUE`` so that it can be its own trust anchor under strict X.509 checks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CERT_DAYS = 825  # the longest validity Apple's TLS clients accept for a server certificate


class TlsError(RuntimeError):
    """The certificate cannot be made or loaded."""


@dataclass(frozen=True, slots=True)
class Certificate:
    certfile: Path
    keyfile: Path
    generated: bool  # made just now (False: loaded from the data dir or given by the operator)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), as browsers and ``openssl x509 -fingerprint`` show it."""
        return sha256_fingerprint(self.certfile)


def sha256_fingerprint(certfile: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(certfile.read_text(encoding="ascii"))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def self_signed(data_dir: Path, *, host: str = "127.0.0.1") -> Certificate:
    """The data dir's certificate (``tls/cert.pem`` + ``tls/key.pem``), made on first use."""
    folder = Path(data_dir) / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return Certificate(cert, key, generated=False)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsError("the openssl command is needed to make a self-signed certificate; install it or pass "
                       "--certfile/--keyfile")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
    extra = host.strip("[]")
    if extra and extra not in ("localhost", "127.0.0.1", "::1", "0.0.0.0", "::"):  # noqa: S104 - a name test
        names.append(("IP:" if _is_ip(extra) else "DNS:") + extra)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp_cert, tmp_key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                   "-nodes", "-days", str(CERT_DAYS), "-subj", "/CN=kcdata local portal",
                   "-keyout", str(tmp_key), "-out", str(tmp_cert),
                   "-addext", "subjectAltName=" + ",".join(names),
                   "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                   "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
                   "-addext", "extendedKeyUsage=serverAuth"]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            raise TlsError(f"openssl could not make a certificate: {done.stderr.strip()[-300:]}")
        os.chmod(tmp_key, 0o600)
        os.replace(tmp_key, key)
        os.replace(tmp_cert, cert)
    return Certificate(cert, key, generated=True)


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def server_context(cert: Certificate) -> ssl.SSLContext:
    """A TLS 1.2+ server context for ``cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert.certfile, cert.keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot load the certificate {cert.certfile} / key {cert.keyfile}: {exc}") from exc
    return context
