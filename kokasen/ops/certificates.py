"""When a TLS certificate expires: the notAfter of the first certificate of a PEM file (the
server's own, as in nginx's fullchain.pem). Django-free, no dependency: the few steps of DER
this needs (RFC 5280: Certificate → tbsCertificate → validity) are read here."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


class CertificateUnreadable(ValueError):
    pass


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the DER element at ``offset``."""
    if offset + 2 > len(data):
        raise CertificateUnreadable("truncated DER")
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or start + count > len(data):
            raise CertificateUnreadable("bad DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise CertificateUnreadable("truncated DER")
    return tag, start, start + length


def _time(tag: int, value: bytes) -> datetime:
    text = value.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ: years 50–99 are 19xx (RFC 5280 4.1.2.5.1)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise CertificateUnreadable("validity is not a time")
    if not text.endswith("Z"):
        raise CertificateUnreadable("validity time without Z")
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def not_after_der(der: bytes) -> datetime:
    tag, start, _ = _element(der, 0)  # Certificate
    if tag != 0x30:
        raise CertificateUnreadable("not a certificate")
    tag, position, _ = _element(der, start)  # tbsCertificate
    if tag != 0x30:
        raise CertificateUnreadable("not a certificate")
    fields = []
    while len(fields) < 5:
        tag, content, end = _element(der, position)
        fields.append((tag, content, end))
        position = end
    if fields[0][0] == 0xA0:  # [0] version present: serial, signature, issuer, validity follow
        validity = fields[4]
    else:
        validity = fields[3]
    if validity[0] != 0x30:
        raise CertificateUnreadable("no validity")
    _, before_start, before_end = _element(der, validity[1])
    tag, after_start, after_end = _element(der, before_end)
    return _time(tag, der[after_start:after_end])


def not_after(path: str | Path) -> datetime:
    """The expiry of the first certificate in the PEM file at ``path``."""
    data = Path(path).read_bytes()
    found = _PEM.search(data)
    if found is None:
        raise CertificateUnreadable("no PEM certificate in the file")
    try:
        der = base64.b64decode(b"".join(found.group(1).split()), validate=True)
    except ValueError:
        raise CertificateUnreadable("the PEM block is not base64") from None
    return not_after_der(der)
