"""
The platform's PAdES seal on signed conventions (pyHanko).

Production reads the key and certificate from ``SIGNING_KEY_PATH``,
``SIGNING_CERT_PATH`` and ``SIGNING_CHAIN_PATH`` (the issuing CA chain);
``python manage.py create_signing_certificate`` makes a development CA and a
signing certificate for them.
"""

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEAL_FIELD = "PlatformSeal"


@cache
def _signer(key_path, cert_path, chain_path, passphrase):
    from pyhanko.sign import signers

    for path in (key_path, cert_path):
        if not Path(path).exists():
            raise ImproperlyConfigured(
                f"The platform's signing key or certificate is missing ({path}). "
                "Run `python manage.py create_signing_certificate` in development, "
                "or set SIGNING_KEY_PATH and SIGNING_CERT_PATH."
            )
    chain = [chain_path] if chain_path and Path(chain_path).exists() else []
    signer = signers.SimpleSigner.load(
        key_path,
        cert_path,
        ca_chain_files=chain,
        key_passphrase=passphrase.encode() if passphrase else None,
    )
    if signer is None:
        raise ImproperlyConfigured("The platform's signing key could not be loaded.")
    return signer


def platform_signer():
    return _signer(
        str(settings.SIGNING_KEY_PATH),
        str(settings.SIGNING_CERT_PATH),
        str(settings.SIGNING_CHAIN_PATH or ""),
        settings.SIGNING_KEY_PASSPHRASE,
    )


def seal_pdf(pdf: bytes, *, reason: str, location: str = "") -> bytes:
    """
    Return ``pdf`` sealed by the platform with a PAdES baseline signature
    covering the whole document, so that any PDF reader shows it as signed
    and unaltered.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    def sign():
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        metadata = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location or None,
            name=settings.SIGNING_SEAL_NAME,
        )
        out = signers.sign_pdf(writer, metadata, signer=platform_signer(), output=io.BytesIO())
        return out.getvalue()

    return _outside_event_loop(sign)


def _outside_event_loop(function):
    """
    pyHanko runs its own asyncio loop, which is refused inside a running one
    (an ASGI server, a test driving a browser): then it runs in a thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def validate_seal(pdf: bytes, trust_roots=()):
    """
    The validation status of the platform seal (pyHanko): ``intact``,
    ``valid``, ``trusted`` and ``coverage``. Used by tests and the benchmark.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    [embedded] = reader.embedded_signatures
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    return validate_pdf_signature(embedded, context)
