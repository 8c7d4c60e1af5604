"""The Python verification example against the vector and cases the signer and the other
examples share (examples/verify/vector.json).

Run: python3 -m unittest discover -s examples/verify/python
"""

import hashlib
import json
import time
import unittest
from pathlib import Path

import s3file_verify

VECTOR = json.loads((Path(__file__).resolve().parent.parent / "vector.json").read_text("utf-8"))


class KnownAnswer(unittest.TestCase):
    def test_signs_the_known_answer(self):
        header = s3file_verify.sign(VECTOR["secret"].encode(), VECTOR["timestamp"], VECTOR["method"],
                                    VECTOR["path"], VECTOR["body"].encode())
        self.assertEqual(header, VECTOR["header"])
        self.assertEqual(s3file_verify.content_sha256(VECTOR["body"].encode()), VECTOR["body_sha256"])

    def test_the_window_is_60_seconds_back_and_5_ahead(self):
        self.assertEqual(s3file_verify.MAX_AGE_SECONDS, 60)
        self.assertEqual(s3file_verify.MAX_FUTURE_SECONDS, 5)

    def test_shared_cases(self):
        self.assertGreater(len(VECTOR["cases"]), 20)
        for case in VECTOR["cases"]:
            with self.subTest(case["name"]):
                def run():
                    s3file_verify.verify(
                        case.get("secret", VECTOR["secret"]).encode(),
                        case.get("header", VECTOR["header"]),
                        case.get("method", VECTOR["method"]),
                        case.get("path", VECTOR["path"]),
                        case.get("body", VECTOR["body"]).encode(),
                        now=case["now"],
                    )
                if case["error"] is None:
                    run()
                else:
                    with self.assertRaises(s3file_verify.VerificationError) as raised:
                        run()
                    self.assertEqual(raised.exception.code, case["error"])
                    self.assertEqual(str(raised.exception), VECTOR["messages"][case["error"]])


class Clock(unittest.TestCase):
    def test_verifies_against_the_clock_when_no_time_is_given(self):
        now = int(time.time())
        header = s3file_verify.sign(b"secret", now, "POST", "/p", b"a=1")
        s3file_verify.verify(b"secret", header, "POST", "/p", b"a=1")
        old = s3file_verify.sign(b"secret", now - 3600, "POST", "/p", b"a=1")
        with self.assertRaises(s3file_verify.VerificationError) as raised:
            s3file_verify.verify(b"secret", old, "POST", "/p", b"a=1")
        self.assertEqual(raised.exception.code, "expired")

    def test_a_fractional_clock_counts_whole_seconds(self):
        header = s3file_verify.sign(b"secret", 1000, "POST", "/p", b"")
        s3file_verify.verify(b"secret", header, "POST", "/p", b"", now=1060.9)
        with self.assertRaises(s3file_verify.VerificationError):
            s3file_verify.verify(b"secret", header, "POST", "/p", b"", now=1061.0)


class Inputs(unittest.TestCase):
    def test_a_missing_header_is_malformed(self):
        with self.assertRaises(s3file_verify.VerificationError) as raised:
            s3file_verify.verify(b"secret", None, "POST", "/", b"", now=0)
        self.assertEqual(raised.exception.code, "malformed")

    def test_the_body_digest_is_sha256_of_exactly_the_bytes(self):
        body = bytes([0, 255, 10, 13])
        self.assertEqual(s3file_verify.content_sha256(body), hashlib.sha256(body).hexdigest())


if __name__ == "__main__":
    unittest.main()
