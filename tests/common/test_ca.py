"""The federation CA and its command line: a node's certificate names its borough three ways,
the node's key stays with the node, and every refusal says what is wrong."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coordinator.cli import main
from mash_common import ca
from mash_common.boroughs import BoroughCodeInvalid
from mash_common.errors import PeerUnidentified
from mash_common.files import PrivateFileError
from mash_common.pki import (
    CertificateError,
    borough_of_certificate,
    borough_of_peer,
    make_csr,
    server_name,
)
from mash_common.tls import TlsIdentity


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_init_creates_a_private_key_and_keeps_it(tmp_path: Path) -> None:
    made = ca.init_ca(tmp_path / "ca")
    assert made.created
    assert mode(tmp_path / "ca" / "ca.key") == 0o600
    assert mode(tmp_path / "ca") == 0o700
    certificate = x509.load_pem_x509_certificate(made.certificate.read_bytes())
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    key_before = (tmp_path / "ca" / "ca.key").read_bytes()

    again = ca.init_ca(tmp_path / "ca")
    assert not again.created
    assert (tmp_path / "ca" / "ca.key").read_bytes() == key_before
    assert again.certificate.read_bytes() == made.certificate.read_bytes()


def test_ca_with_half_its_files_is_refused(tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "ca")
    (tmp_path / "ca" / "ca.crt").unlink()
    with pytest.raises(ca.CaError, match=r"only ca\.key is there"):
        ca.init_ca(tmp_path / "ca")


def test_a_csr_is_issued_with_the_borough_in_cn_dns_and_uri(tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "ca")
    key_path = tmp_path / "node" / "tls.key"
    key_path.parent.mkdir()
    csr = make_csr("hackney", key_path)
    assert mode(key_path) == 0o600
    assert make_csr("hackney", key_path) != csr  # same key, a new signature: the key is kept
    pem = ca.issue(tmp_path / "ca", "hackney", csr)
    certificate = x509.load_pem_x509_certificate(pem)

    assert borough_of_certificate(certificate) == "hackney"
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "hackney"
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["hackney.mash-node"]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:mash:borough:hackney"]
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usage) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 729 <= lifetime.days <= 731
    # The node's key, which never left it, is the certificate's.
    (tmp_path / "node" / "tls.crt").write_bytes(pem)
    (tmp_path / "node" / "federation-ca.crt").write_bytes(ca.ca_certificate(tmp_path / "ca"))
    assert TlsIdentity.from_dir(tmp_path / "node").borough == "hackney"


def test_issue_refuses_a_csr_for_another_borough_or_key_or_with_a_bad_signature(
    tmp_path: Path,
) -> None:
    ca.init_ca(tmp_path / "ca")
    csr = make_csr("camden", tmp_path / "camden.key")
    with pytest.raises(ca.CaError, match="is for 'camden', not 'hackney'"):
        ca.issue(tmp_path / "ca", "hackney", csr)
    with pytest.raises(ca.CaError, match="not a PEM CSR"):
        ca.issue(tmp_path / "ca", "camden", b"hello")
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "camden")]))
        .sign(ed_key, None)
        .public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(ca.CaError, match="ECDSA P-256"):
        ca.issue(tmp_path / "ca", "camden", ed_csr)
    # A request whose signature was altered in transit.
    der = bytearray(x509.load_pem_x509_csr(csr).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature's last integer
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ca.CaError, match="signature is not valid"):
        ca.issue(tmp_path / "ca", "camden", tampered)


@pytest.mark.parametrize("code", ["Hackney", "h", "hack ney", "1hackney", "hackney!", ""])
def test_a_bad_borough_code_is_refused(tmp_path: Path, code: str) -> None:
    ca.init_ca(tmp_path / "ca")
    with pytest.raises(BoroughCodeInvalid, match="lower-case letters"):
        ca.issue_with_key(tmp_path / "ca", code, tmp_path / "out")
    with pytest.raises(BoroughCodeInvalid):
        make_csr(code, tmp_path / "tls.key")
    assert not (tmp_path / "tls.key").exists()


def test_issue_with_key_writes_a_nodes_tls_files_once(tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "ca")
    files = ca.issue_with_key(tmp_path / "ca", "lambeth", tmp_path / "keys")
    assert mode(files.key) == 0o600
    identity = TlsIdentity.from_dir(tmp_path / "keys")
    assert identity.borough == "lambeth"
    assert server_name("lambeth") == "lambeth.mash-node"
    with pytest.raises(ca.CaError, match="never replaced"):
        ca.issue_with_key(tmp_path / "ca", "lambeth", tmp_path / "keys")
    with pytest.raises(ca.CaError, match="no federation CA here"):
        ca.issue_with_key(tmp_path / "nowhere", "lambeth", tmp_path / "other")


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "ca")
    files = ca.issue_with_key(tmp_path / "ca", "lambeth", tmp_path / "keys")
    files.key.chmod(0o644)
    with pytest.raises(PrivateFileError, match="readable by others"):
        TlsIdentity.from_dir(tmp_path / "keys")
    (tmp_path / "ca" / "ca.key").chmod(0o640)
    with pytest.raises(PrivateFileError, match="readable by others"):
        ca.issue(tmp_path / "ca", "lambeth", make_csr("lambeth", tmp_path / "k"))


class _Context:
    def __init__(self, auth: dict[str, list[bytes]]) -> None:
        self.auth = auth

    def auth_context(self) -> dict[str, list[bytes]]:
        return self.auth


def test_borough_of_peer_reads_the_verified_certificate(tmp_path: Path) -> None:
    ca.init_ca(tmp_path / "ca")
    files = ca.issue_with_key(tmp_path / "ca", "camden", tmp_path / "keys")
    pem = files.certificate.read_bytes()
    ssl = {"transport_security_type": [b"ssl"]}
    assert borough_of_peer(_Context({**ssl, "x509_pem_cert": [pem]})) == "camden"
    with pytest.raises(PeerUnidentified, match="not arrive over TLS"):
        borough_of_peer(_Context({}))
    with pytest.raises(PeerUnidentified, match="no client certificate"):
        borough_of_peer(_Context(ssl))
    ca_pem = (tmp_path / "ca" / "ca.crt").read_bytes()
    with pytest.raises(PeerUnidentified, match="names no borough"):
        borough_of_peer(_Context({**ssl, "x509_pem_cert": [ca_pem]}))


def test_a_certificate_whose_names_disagree_names_no_borough() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "camden")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    )
    mixed = builder.add_extension(
        x509.SubjectAlternativeName(
            [
                x509.DNSName("camden.mash-node"),
                x509.UniformResourceIdentifier("urn:mash:borough:hackney"),
            ]
        ),
        critical=False,
    ).sign(key, hashes.SHA256())
    with pytest.raises(CertificateError, match="common name is not the borough 'hackney'"):
        borough_of_certificate(mixed)
    two = builder.add_extension(
        x509.SubjectAlternativeName(
            [
                x509.UniformResourceIdentifier("urn:mash:borough:camden"),
                x509.UniformResourceIdentifier("urn:mash:borough:hackney"),
            ]
        ),
        critical=False,
    ).sign(key, hashes.SHA256())
    with pytest.raises(CertificateError, match="one borough"):
        borough_of_certificate(two)
    no_dns = builder.add_extension(
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier("urn:mash:borough:camden")]),
        critical=False,
    ).sign(key, hashes.SHA256())
    with pytest.raises(CertificateError, match=r"lacks the DNS name 'camden\.mash-node'"):
        borough_of_certificate(no_dns)


def test_cli_init_and_issue_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ca", "init", "--dir", str(tmp_path / "ca")]) == 0
    assert "Created the federation CA" in capsys.readouterr().out
    assert main(["ca", "init", "--dir", str(tmp_path / "ca")]) == 0
    assert "Kept the federation CA" in capsys.readouterr().out

    csr = tmp_path / "hackney.csr"
    csr.write_bytes(make_csr("hackney", tmp_path / "tls.key"))
    out = tmp_path / "hackney.crt"
    args = ["ca", "issue", "--dir", str(tmp_path / "ca"), "--borough", "hackney"]
    assert main([*args, "--csr", str(csr), "--out", str(out)]) == 0
    assert borough_of_certificate(x509.load_pem_x509_certificate(out.read_bytes())) == "hackney"
    assert main([*args, "--csr", str(csr), "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err

    assert main([*args, "--out-dir", str(tmp_path / "demo")]) == 0
    assert "tests and demos only" in capsys.readouterr().out
    assert TlsIdentity.from_dir(tmp_path / "demo").borough == "hackney"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--borough", "Hackney!", "--out-dir", "x"], "lower-case letters"),
        (["--borough", "hackney"], "give either --csr FILE --out CERT, or --out-dir DIR"),
        (["--borough", "hackney", "--csr", "absent.csr", "--out", "c"], "absent.csr: cannot read"),
    ],
)
def test_cli_refusals_are_one_clear_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["ca", "init", "--dir", "ca"])
    capsys.readouterr()
    assert main(["ca", "issue", "--dir", "ca", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mash-coordinator: ") and message in err
    assert "Traceback" not in err


def test_cli_issue_without_a_ca_says_to_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["ca", "issue", "--dir", str(tmp_path / "none"), "--borough", "hackney"]
    assert main([*args, "--out-dir", str(tmp_path / "d")]) == 1
    assert "run `mash-coordinator ca init`" in capsys.readouterr().err
