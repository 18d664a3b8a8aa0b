"""HTTPS and WSS, when the venue has a certificate for the appliance.

Loaded once at start, before the port is bound: a wrong path or a key that does not match the
certificate stops ``serve`` with one line saying so, rather than failing every phone's handshake.
"""

from __future__ import annotations

import ssl
from pathlib import Path


class TLSError(Exception):
    """The certificate or key cannot be used; the message names the files and the reason."""


def server_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server context with the certificate chain (leaf first) and its key; TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except FileNotFoundError as e:
        raise TLSError(f"cannot read {e.filename}: no such file") from None
    except PermissionError as e:
        raise TLSError(f"cannot read {e.filename}: permission denied") from None
    except ssl.SSLError as e:
        raise TLSError(
            f"cannot use {certfile} with {keyfile}: {e.reason or e} (a PEM certificate chain, "
            "leaf first, and its unencrypted PEM key)"
        ) from None
    return context
