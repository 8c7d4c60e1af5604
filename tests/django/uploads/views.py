import hashlib

from django.http import JsonResponse
from django.shortcuts import render

from .forms import UploadForm


def upload(request):
    """The form; once it validates, `request.FILES` as JSON, each file read back from S3."""
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            files = {field: [describe(file) for file in files] for field, files in request.FILES.lists()}
            return JsonResponse({"files": files})
        status = 400
    else:
        form = UploadForm()
        status = 200
    return render(request, "uploads/form.html", {"form": form}, status=status)


def describe(file):
    content = file.read()
    return {
        "name": file.name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
