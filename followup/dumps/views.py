"""The dump's files, at /dumps/<name>: the latest dump's (followup.dumps.build.dump_file_find), streamed from disk.

Each answer names the file for saving with its date (Content-Disposition), carries its size (Content-Length), an
ETag (the file's SHA-256, as the manifest states it) and Last-Modified (when the dump was made), and says to check
them again before reusing a copy: a request with If-None-Match or If-Modified-Since gets 304 while the file is
unchanged. A name that is not one of the dump's files is a 404, whatever it holds (`..`, slashes, other files).
"""

from django.http import FileResponse, Http404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from followup.dumps.build import MANIFEST_NAME, dump_file_find


@require_safe
def dump_file(request, name: str):
    found = dump_file_find(name=name)
    if found is None:
        raise Http404("No such file in the data dump: its files are listed at /api/v1/dumps/.")
    etag, modified = f'"{found.etag}"', int(found.modified.timestamp())  # HTTP dates are in whole seconds
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = FileResponse(
            found.path.open("rb"), as_attachment=name != MANIFEST_NAME, filename=found.download_name
        )
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    # The address stays, the content changes every night: a copy may be kept, but only reused once revalidated.
    response.headers["Cache-Control"] = "public, no-cache"
    return response
