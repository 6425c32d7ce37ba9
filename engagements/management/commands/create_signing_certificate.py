"""
Create the platform's signing material for development: a small CA and a
signing certificate issued by it, written where the settings look
(``SIGNING_KEY_PATH``, ``SIGNING_CERT_PATH``, ``SIGNING_CHAIN_PATH``).
Production uses a certificate from a real CA instead.
"""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.management.base import BaseCommand


def _name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Trio (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(path, data, mode=0o644):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


class Command(BaseCommand):
    help = "Create a development CA and the platform's signing certificate (PAdES seal)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Replace existing files.")
        parser.add_argument("--days", type=int, default=3650)

    def handle(self, *args, force=False, days=3650, **options):
        key_path = Path(settings.SIGNING_KEY_PATH)
        cert_path = Path(settings.SIGNING_CERT_PATH)
        chain_path = Path(settings.SIGNING_CHAIN_PATH)
        if key_path.exists() and cert_path.exists() and not force:
            self.stdout.write(f"Signing certificate already present: {cert_path}")
            return

        now = datetime.datetime.now(datetime.UTC)
        until = now + datetime.timedelta(days=days)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("Trio Development Root CA")
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )

        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(settings.SIGNING_SEAL_NAME))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )

        pem = serialization.Encoding.PEM
        _write(
            key_path,
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            mode=0o600,
        )
        _write(cert_path, cert.public_bytes(pem))
        _write(chain_path, ca_cert.public_bytes(pem))
        self.stdout.write(
            self.style.SUCCESS(
                f"Development CA and signing certificate written to {cert_path.parent}"
            )
        )
