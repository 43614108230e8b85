"""TLS to a pinned address: the TCP connection goes to the vetted IP, the certificate is checked
for the URL's host name (with a local CA, so nothing leaves 127.0.0.1)."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openai_cf.errors import InvalidRequestError
from openai_cf.services.image_fetch import REFUSED, ImageFetcher, ImageRef
from openai_cf.services.image_http import default_tls_context
from tests.unit.image_servers import PUBLIC_IP, FakeNet, image_server


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    signer_cert, signer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(signer_cert.subject if signer_cert else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    return builder.sign(signer_key, hashes.SHA256())


class LocalCA:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = _certificate("openai-cf test CA", self.key, None)
        self.server_names: list[str | None] = []  # SNI the servers were sent

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cadata=self.cert.public_bytes(serialization.Encoding.PEM).decode())
        return context

    def server_context(self, host: str, tmp: Path) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(host, key, (self.cert, self.key))
        (tmp / f"{host}.pem").write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp / f"{host}.pem")
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)  # type: ignore[assignment,misc]
        return context


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture(scope="module")
def tls_port(ca: LocalCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with image_server(ca.server_context("images.example", tmp_path_factory.mktemp("tls"))) as port:
        yield port


def test_tls_verifies_the_url_host_while_connecting_to_the_pinned_address(ca: LocalCA, tls_port: int) -> None:
    # Given images.example resolving to a public address and a server holding a certificate for it
    net = FakeNet()
    fetcher = ImageFetcher(resolver=net.resolve, connect=net.connect, tls=ca.client_context())
    # When the image is fetched over https
    [url] = fetcher.fetch_all([ImageRef(f"https://images.example:{tls_port}/cat.png", "messages[0].content[0]")])
    # Then the certificate matched and the TCP connection went to the vetted address
    assert url.startswith("data:image/png;base64,")
    assert net.connected == [(PUBLIC_IP, tls_port)]
    assert ca.server_names[-1] == "images.example"


def test_a_certificate_for_another_name_is_refused(ca: LocalCA, tls_port: int) -> None:
    # Given other.example resolving to the address of a server whose certificate names images.example
    net = FakeNet({"other.example": [PUBLIC_IP]})
    fetcher = ImageFetcher(resolver=net.resolve, connect=net.connect, tls=ca.client_context())
    # When it is fetched
    with pytest.raises(InvalidRequestError) as info:
        fetcher.fetch_all([ImageRef(f"https://other.example:{tls_port}/cat.png", "messages[0].content[0]")])
    # Then the name check fails, with the one refusal message
    assert (info.value.message, info.value.code) == (REFUSED, "invalid_image_url")


def test_a_certificate_from_an_unknown_authority_is_refused(tls_port: int) -> None:
    net = FakeNet()
    fetcher = ImageFetcher(resolver=net.resolve, connect=net.connect, tls=LocalCA().client_context())
    with pytest.raises(InvalidRequestError) as info:
        fetcher.fetch_all([ImageRef(f"https://images.example:{tls_port}/cat.png", "messages[0].content[0]")])
    assert info.value.message == REFUSED


def test_the_default_context_verifies_certificates_and_names() -> None:
    context = default_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
