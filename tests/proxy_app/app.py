"""A small application behind `s3file-signer --upstream`, in plain Python.

It shows what any backend does in proxy mode: trust the `<field>` keys and `<field>-s3file`
descriptions of a form only when the `X-S3File-Signature` header verifies with the shared
`S3FILE_SECRET_KEY`, by the verification example it imports (examples/verify/python/).
Run: python3 app.py --port 8080 --secret "$S3FILE_SECRET_KEY"
"""

import argparse
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

# The example itself, not a copy of it: the signer's proxy tests run it end to end.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "verify" / "python"))
from s3file_verify import VerificationError, content_sha256, verify  # noqa: E402

FORM = b"""<!doctype html>
<form method="post" action="/profile" enctype="multipart/form-data" data-s3file="/s3file/sign">
  <input name="name"> <input type="file" name="avatar"> <button>Save</button>
</form>
<script type="module" src="/pkg/s3file.js"></script>
"""


def check(secret, headers, method, path, body):
    """An error text, or None when the signer vouches for this request."""
    try:
        verify(secret, headers.get("X-S3File-Signature"), method, path, body)
    except VerificationError as error:
        return str(error)
    # Redundant after the MAC, which covers the digest; a mismatch here means the body changed
    # between the signer and this handler, which is worth saying as such.
    if not hmac.compare_digest(headers.get("X-S3File-Content-SHA256", ""), content_sha256(body)):
        return "X-S3File-Content-SHA256 does not match the body"
    return None


class Handler(BaseHTTPRequestHandler):
    secret = b""

    def do_GET(self):
        self.answer(200, FORM, "text/html")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if self.path == "/raw":
            digest = hashlib.sha256(body).hexdigest()
            self.send_json(200, {"length": len(body), "sha256": digest,
                                 "content_type": self.headers.get("Content-Type"),
                                 "signature": self.headers.get("X-S3File-Signature")})
            return
        fields = parse_qsl(body.decode(), keep_blank_values=True)
        uploads = [json.loads(value) for name, value in fields if name.endswith("-s3file")]
        header = self.headers.get("X-S3File-Signature")
        if uploads or header:
            error = check(self.secret, self.headers, self.command, self.path, body) if header else "unsigned keys"
            if error:
                self.send_json(403, {"error": error})
                return
        self.send_json(200, {"fields": [[n, v] for n, v in fields if not n.endswith("-s3file")],
                             "uploads": uploads, "verified": header is not None})

    def send_json(self, status, document):
        self.answer(status, json.dumps(document).encode(), "application/json")

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    arguments = parser.parse_args()
    Handler.secret = arguments.secret.encode()
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler)
    print(f"listening on http://127.0.0.1:{arguments.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
