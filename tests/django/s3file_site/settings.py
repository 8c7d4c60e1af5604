"""Settings of the test site: a plain Django project that uses django-s3file as its README says.

Everything that differs between runs comes from the environment:

- S3FILE_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY, _SECRET_KEY, _REGION: the S3 store
  (`cargo xtask seaweedfs` prints them), required;
- S3FILE_DJANGO_AWS_LOCATION: the prefix of every key this site writes (default: a fresh one
  per process), so runs sharing a bucket never see each other's objects;
- S3FILE_DJANGO_STATIC_DIR: an extra static directory searched before the apps' own, which is
  how a test puts another `s3file/js/s3file.js` in place of django-s3file's;
- S3FILE_DJANGO_SECRET_KEY: Django's SECRET_KEY (default: a fresh one per process).
"""

import mimetypes
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def required(name):
    try:
        return os.environ[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"{name} is not set: start SeaweedFS with `cargo xtask seaweedfs` and export what it prints"
        ) from None


DEBUG = True
SECRET_KEY = os.environ.get("S3FILE_DJANGO_SECRET_KEY") or secrets.token_hex(32)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "s3file",
    "uploads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "s3file.middleware.S3FileMiddleware",
]

ROOT_URLCONF = "s3file_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# No models, so no database.
DATABASES = {}

USE_TZ = True

STATIC_URL = "static/"
# FileSystemFinder comes before AppDirectoriesFinder, so a file here wins over the same path in
# an app's static/ directory.
STATICFILES_DIRS = [os.environ["S3FILE_DJANGO_STATIC_DIR"]] if os.environ.get("S3FILE_DJANGO_STATIC_DIR") else []
# Static serving guesses the type from the extension; browsers compile wasm only when it is
# served as application/wasm, and not every system's MIME table says so.
mimetypes.add_type("application/wasm", ".wasm")

STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-storages' settings rather than STORAGES' OPTIONS: django-s3file reads AWS_LOCATION from
# the settings to name its upload folder and to check the keys a form posts.
AWS_S3_ENDPOINT_URL = required("S3FILE_TEST_S3_ENDPOINT")
AWS_STORAGE_BUCKET_NAME = required("S3FILE_TEST_S3_BUCKET")
AWS_ACCESS_KEY_ID = required("S3FILE_TEST_S3_ACCESS_KEY")
AWS_SECRET_ACCESS_KEY = required("S3FILE_TEST_S3_SECRET_KEY")
AWS_S3_REGION_NAME = required("S3FILE_TEST_S3_REGION")
AWS_S3_ADDRESSING_STYLE = "path"
# Without it boto3 signs presigned POSTs with SigV2 here (`AWSAccessKeyId`, `signature`).
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_LOCATION = os.environ.get("S3FILE_DJANGO_AWS_LOCATION") or f"django-{secrets.token_hex(6)}"
