"""The sign endpoint written the usual Django way, for `tests/bench/signer.mjs` to compare with.

One view, `POST /s3file/sign`, takes the signer's JSON request and answers the signer's JSON
response: a folder signature (Django's `TimestampSigner`, salted with the field name) and, for
each file, boto3's `generate_presigned_post` with the conditions the signer puts in its own
policies (key prefix, exact Content-Type, exact size, `success_action_status`). Like the signer's
sign endpoint, it never talks to S3. The boto3 client is made once per worker process, as
django-storages keeps one per thread.

No middleware, no database, no templates: the cheapest Django that answers this request, so the
comparison flatters Django rather than the signer.

Settings come from the environment the benchmark passes: AWS_STORAGE_BUCKET_NAME,
AWS_S3_ENDPOINT_URL, AWS_S3_REGION_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
S3FILE_SECRET_KEY. Run with `gunicorn --chdir tests/bench/django_sign signapp:application`.
"""

import base64
import json
import os
import uuid

import boto3
from botocore.config import Config
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ["S3FILE_SECRET_KEY"],
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)

from django.core import signing  # noqa: E402 (needs the settings)
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

BUCKET = os.environ["AWS_STORAGE_BUCKET_NAME"]
UPLOAD_PATH = "tmp/s3file"
UPLOAD_EXPIRE = 3600
MAX_FILES = 1000

client = boto3.session.Session().client(
    "s3",
    endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL"),
    region_name=os.environ.get("AWS_S3_REGION_NAME", "us-east-1"),
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)


def error(message, status=400):
    return JsonResponse({"error": message}, status=status)


def sign(request):
    if request.method != "POST":
        return error("POST only", status=405)
    try:
        data = json.loads(request.body)
        field = data["field"]
        files = data["files"]
    except (ValueError, KeyError, TypeError):
        return error("expected {\"field\": …, \"files\": […]}")
    if not isinstance(field, str) or not field or not isinstance(files, list) or not files:
        return error("`field` and `files` must not be empty")
    if len(files) > MAX_FILES:
        return error(f"at most {MAX_FILES} files at once", status=413)

    folder = f"{UPLOAD_PATH}/{base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip('=')}"
    signature = signing.TimestampSigner(salt=f"s3file:{field}").sign(folder)
    signed = []
    for file in files:
        try:
            name = str(file["name"]).replace("\\", "/").rsplit("/", 1)[-1]
            size = int(file["size"])
            content_type = str(file.get("type") or "application/octet-stream")
        except (KeyError, TypeError, ValueError):
            return error("each file needs a name and a size")
        if not name or name in (".", ".."):
            return error(f"{file['name']!r} is not a file name")
        post = client.generate_presigned_post(
            BUCKET,
            f"{folder}/${{filename}}",
            Fields={"Content-Type": content_type, "success_action_status": "201"},
            Conditions=[
                ["starts-with", "$key", f"{folder}/"],
                {"Content-Type": content_type},
                ["content-length-range", size, size],
                {"success_action_status": "201"},
            ],
            ExpiresIn=UPLOAD_EXPIRE,
        )
        signed.append({"name": name, "key": f"{folder}/{name}", "url": post["url"], "fields": post["fields"]})
    return JsonResponse({"field": field, "signature": signature, "files": signed})


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("s3file/sign", sign), path("healthz", healthz)]

application = get_wsgi_application()
