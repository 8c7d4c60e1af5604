"""Verifies the X-S3File-Signature header that s3file-signer in proxy mode puts on the forms it
forwards, with the Python standard library only. Copy this file into your application.

The signer sends

    X-S3File-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256>
    X-S3File-Content-SHA256: <hex SHA-256 of the body>

with the MAC keyed with S3FILE_SECRET_KEY over

    s3file-forward-v2\\n<t>\\n<METHOD>\\n<path?query>\\n<hex SHA-256 of the body>

Trust the form's `<field>` keys and `<field>-s3file` descriptions only when `verify` returns
(it raises VerificationError otherwise), called with the method, the path and query exactly as
the request line had them, and the exact bytes of the body. A signature is accepted from 60
seconds in the past to 5 seconds in the future of this clock. The signer's
`forward_signature::verify` (Rust) is the reference; examples/verify/vector.json holds the
known answer and the cases this file, the signer and the Node example all pass.

    from s3file_verify import VerificationError, verify

    try:
        verify(SECRET, request.headers.get("X-S3File-Signature"), request.method,
               request.full_path, request.body)
    except VerificationError as error:
        return 403, str(error)
"""

import hashlib
import hmac
import math
import re
import time

MAX_AGE_SECONDS = 60
MAX_FUTURE_SECONDS = 5

_CONTEXT = "s3file-forward-v2"
# The shape first: a version other than 2 is reported as such only in a header of this shape.
_SHAPE = re.compile(r"t=([^,]*),v([0-9]+)=(.*)", re.DOTALL)
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")

_MESSAGES = {
    "malformed": "malformed X-S3File-Signature: expected t=<unix seconds>,v2=<64 lower-case hex digits>",
    "unsupported_version": "unsupported X-S3File-Signature version: expected v2",
    "mismatch": "X-S3File-Signature does not match this request",
    "expired": "X-S3File-Signature expired: signed more than 60 seconds ago",
    "future": "X-S3File-Signature is from the future: signed more than 5 seconds ahead of this clock",
}


class VerificationError(ValueError):
    """The request is not one the signer forwarded just now; `code` says why: malformed,
    unsupported_version, mismatch, expired or future."""

    def __init__(self, code):
        super().__init__(_MESSAGES[code])
        self.code = code


def content_sha256(body):
    """The X-S3File-Content-SHA256 of a body: SHA-256 of exactly its bytes, lower-case hex."""
    return hashlib.sha256(body).hexdigest()


def _mac(secret, timestamp, method, path, body):
    if isinstance(secret, str):
        secret = secret.encode()
    message = f"{_CONTEXT}\n{timestamp}\n{method}\n{path}\n{content_sha256(body)}"
    return hmac.new(secret, message.encode(), hashlib.sha256).digest()


def sign(secret, timestamp, method, path, body):
    """The header the signer sends; for tests, an application has no use for it."""
    return f"t={timestamp},v2={_mac(secret, timestamp, method, path, body).hex()}"


def verify(secret, header, method, path, body, now=None):
    """Raises VerificationError unless `header` is the signer's, made with `secret` (str or
    bytes) for this method, path and query, and body (bytes), 60 seconds old at most and 5
    seconds ahead at most of `now` (unix seconds; the clock by default)."""
    shape = _SHAPE.fullmatch(header or "")
    if not shape:
        raise VerificationError("malformed")
    timestamp, version, signature = shape.groups()
    if version != "2":
        raise VerificationError("unsupported_version")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise VerificationError("malformed")
    timestamp = int(timestamp)
    # Constant time, and before the clock: expired and future speak of genuine signatures.
    if not hmac.compare_digest(_mac(secret, timestamp, method, path, body), bytes.fromhex(signature)):
        raise VerificationError("mismatch")
    age = math.floor(time.time() if now is None else now) - timestamp
    if age > MAX_AGE_SECONDS:
        raise VerificationError("expired")
    if age < -MAX_FUTURE_SECONDS:
        raise VerificationError("future")
