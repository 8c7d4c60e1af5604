"""Signs URLs as django-storages does with AWS_CLOUDFRONT_KEY: botocore's CloudFrontSigner, the
`rsa` package's RSA-SHA1, a canned policy.

Usage: botocore_sign.py <PKCS#1 PEM file> <key pair id>, then one JSON object per line on
standard input, {"url": ..., "expires": <Unix seconds>}; prints one signed URL per line.
"""

import datetime
import json
import sys

import rsa
from botocore.signers import CloudFrontSigner


def main():
    key_path, key_pair_id = sys.argv[1:3]
    with open(key_path, "rb") as pem:
        key = rsa.PrivateKey.load_pkcs1(pem.read())
    signer = CloudFrontSigner(key_pair_id, lambda message: rsa.sign(message, key, "SHA-1"))
    for line in sys.stdin:
        case = json.loads(line)
        expires = datetime.datetime.fromtimestamp(case["expires"], tz=datetime.timezone.utc)
        print(signer.generate_presigned_url(case["url"], date_less_than=expires), flush=True)


if __name__ == "__main__":
    main()
