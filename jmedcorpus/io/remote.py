"""Inputs and outputs in object storage: ``s3://bucket/prefix`` and any other filesystem URI that
pyarrow opens (``gs://``, ``hdfs://``, ``abfs://``), through a local working copy.

How: remote inputs are mirrored into a local cache (only objects that changed are fetched again;
each local copy gets the object's modification time, so the build's resume fingerprints stay
the same from run to run). The build runs unchanged into a local working copy of the output
(``$JMEDCORPUS_CACHE``, default ``~/.cache/jmedcorpus``; so a killed build resumes as a local
one does), and is then uploaded:

1. the remote ``manifest.json`` is deleted first: from then on the remote output says it is
   incomplete;
2. every other file is uploaded, except those this working copy already uploaded unchanged (a
   re-run after a killed upload sends only the rest); objects of an earlier build that the new
   one does not have are deleted;
3. ``manifest.json`` is uploaded last. A remote output with a manifest is complete.

Atomic appearance: on S3 (and GCS) an object becomes visible whole or not at all: a single PUT,
or a multipart upload that only appears at ``CompleteMultipartUpload`` (pyarrow's output
stream uses one above 5 MB). Readers never see a partial object, so there is no temporary name
and no rename (a "rename" on S3 is a copy and a delete). On filesystems with a real rename
(HDFS), each file is written to a temporary name and moved.

Credentials come from the standard places of the filesystem's own SDK (for S3:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``~/.aws/credentials``,
instance roles; ``AWS_ENDPOINT_URL`` for an S3-compatible server such as MinIO or SeaweedFS).
Messages show a URL without its query string or user part, where keys could be written.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse

from tqdm import tqdm

from jmedcorpus.errors import UserError
from jmedcorpus.io import layout

MARKER, MANIFEST = layout.MARKER, layout.MANIFEST
UPLOADED = ".remote-uploads.json"  # in the working copy: what it uploaded, by size and mtime
_NOT_UPLOADED = {layout.WORK, ".lock", UPLOADED}
_COPY_BYTES = 8 << 20


def is_remote(path: str) -> bool:
    """True for a URL with a scheme other than ``file``.

    >>> is_remote("s3://bucket/corpus"), is_remote("data/in.jsonl"), is_remote("file:///tmp/x")
    (True, False, False)
    """
    scheme = urllib.parse.urlsplit(path).scheme
    return "://" in path and len(scheme) > 1 and scheme != "file"


def display_url(url: str) -> str:
    """``url`` without a query string or user part, for messages.

    >>> display_url("s3://AKIA:secret@bucket/p?secret_key=x&endpoint_override=h")
    's3://bucket/p'
    """
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def cache_root() -> str:
    return os.environ.get("JMEDCORPUS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "jmedcorpus")


def working_copy(url: str, kind: str) -> str:
    """The local folder that mirrors ``url`` (``kind``: ``inputs`` or ``outputs``)."""
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return os.path.join(cache_root(), kind, key)


def _fail(action: str, url: str, e: Exception, fix: str):
    # The SDK's message names the bucket, key and error code (never file contents); its first
    # line is enough. Credentials never appear in it.
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    raise UserError(f"cannot {action} {display_url(url)}: {first[:300]}; {fix}") from None


CREDENTIALS_FIX = (
    "check the URL, the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and, "
    "for an S3-compatible server, AWS_ENDPOINT_URL"
)


def open_url(url: str):
    """``(filesystem, path)`` of ``url``; a one-line UserError when it cannot be opened."""
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(url)
    except (OSError, ValueError) as e:  # pyarrow.ArrowInvalid is a ValueError
        _fail("open", url, e, CREDENTIALS_FIX)


def _list(fs, root: str, url: str) -> dict[str, object]:
    """Files under ``root`` by path relative to it (``root`` a single file: its name alone)."""
    import pyarrow.fs as pafs

    try:
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.File:
            return {"": info}
        selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        infos = fs.get_file_info(selector)
    except OSError as e:
        _fail("list", url, e, CREDENTIALS_FIX)
    base = root.rstrip("/") + "/"
    return {i.path[len(base) :]: i for i in infos if i.type == pafs.FileType.File}


def _copy(src, dst) -> None:
    while chunk := src.read(_COPY_BYTES):
        dst.write(chunk)


def stage_input(url: str, progress: bool = False) -> str:
    """Mirror the file or folder at ``url`` into the local cache; returns the local path (a
    folder keeps the remote layout, so document ids derived from paths are those of a local
    build of the same files). Objects already there with the same size and time are kept."""
    fs, root = open_url(url)
    files = _list(fs, root, url)
    if not files:
        raise UserError(f"--input {display_url(url)}: no such object or prefix (or it is empty)")
    return _mirror(fs, root, url, files, progress)


def _mirror(fs, root: str, url: str, files: dict, progress: bool) -> str:
    """Copy the listed ``files`` of ``url`` into its working copy; returns the local path."""
    single = "" in files
    if single:  # one object: keep its name locally
        files = {os.path.basename(root): files[""]}
    local_root = working_copy(url, "inputs")
    wanted = set()
    bar = tqdm(total=sum(i.size for i in files.values()), unit="B", unit_scale=True, desc="fetch input",
               disable=not progress, leave=False)  # fmt: skip
    try:
        for rel, info in sorted(files.items()):
            local = os.path.join(local_root, rel)
            wanted.add(os.path.normpath(local))
            mtime_ns = info.mtime_ns or 0
            if os.path.isfile(local) and _stamp(local) == (info.size, mtime_ns):
                bar.update(info.size)
                continue
            os.makedirs(os.path.dirname(local), exist_ok=True)
            tmp = f"{local}.tmp-{os.getpid()}"
            try:
                with fs.open_input_stream(info.path) as src, open(tmp, "wb") as dst:
                    _copy(src, dst)
            except OSError as e:
                _remove(tmp)
                _fail("read", f"{url.rstrip('/')}/{rel}" if not single else url, e, CREDENTIALS_FIX)
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
            os.replace(tmp, local)
            bar.update(info.size)
    finally:
        bar.close()
    for dirpath, _, names in os.walk(local_root):  # objects deleted remotely since the last run
        for name in names:
            path = os.path.normpath(os.path.join(dirpath, name))
            if path not in wanted:
                _remove(path)
    return os.path.join(local_root, next(iter(files))) if single else local_root


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def check_remote_output(url: str) -> None:
    """One line when the prefix at ``url`` holds objects that jmedcorpus did not write (no
    marker object): the build must never overwrite someone's bucket prefix."""
    fs, root = open_url(url)
    files = _list(fs, root, url)
    if files and MARKER not in files:
        raise UserError(
            f"--output {display_url(url)} is not empty and not a jmedcorpus output; choose a new or empty prefix"
        )


def upload_output(local: str, url: str, progress: bool = False) -> int:
    """Upload the working copy ``local`` to ``url`` (manifest deleted first, written last);
    returns the number of files sent."""
    fs, root = open_url(url)
    remote = _list(fs, root, url)
    record_path = os.path.join(local, UPLOADED)
    record = _read_json(record_path)
    files = []
    for dirpath, dirs, names in os.walk(local):
        dirs[:] = [d for d in dirs if d not in _NOT_UPLOADED]
        files += [os.path.relpath(os.path.join(dirpath, n), local) for n in names if n not in _NOT_UPLOADED]
    files = sorted(f for f in files if not os.path.basename(f).startswith(".") or f == MARKER)
    files.sort(key=lambda f: (f != MARKER, f == MANIFEST))  # the marker first, the manifest last
    direct = fs.type_name in ("s3", "gcs")  # objects appear whole; elsewhere write and rename
    sent = 0
    bar = tqdm(total=len(files), unit="file", desc="upload", disable=not progress, leave=False)
    try:
        if MANIFEST in remote:
            _remote_op(fs.delete_file, f"{root}/{MANIFEST}", url, "delete")
        for rel in files:
            stamp = list(_stamp(os.path.join(local, rel)))
            target = f"{root.rstrip('/')}/{rel}"
            info = remote.get(rel)
            if rel != MANIFEST and record.get(rel) == stamp and info is not None and info.size == stamp[0]:
                bar.update(1)
                continue
            if rel == MANIFEST:  # everything else is there: drop what the new build does not have
                for stale in sorted(set(remote) - set(files)):
                    _remote_op(fs.delete_file, f"{root.rstrip('/')}/{stale}", url, "delete")
            _put(fs, os.path.join(local, rel), target, url, direct)
            record[rel] = stamp
            _write_json(record_path, record)
            sent += 1
            bar.update(1)
    finally:
        bar.close()
    return sent


def _put(fs, path: str, target: str, url: str, direct: bool) -> None:
    dest = target if direct else f"{target}.tmp-{os.getpid()}"
    try:
        with open(path, "rb") as src, fs.open_output_stream(dest) as dst:
            _copy(src, dst)
        if not direct:
            fs.move(dest, target)
    except OSError as e:
        _fail("write", url, e, "check that the credentials may write there (and the bucket is not read-only)")


def _remote_op(fn, path: str, url: str, action: str) -> None:
    try:
        fn(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        _fail(action, url, e, "check that the credentials may write there")


def fetch_output(url: str, progress: bool = False) -> str:
    """A local, complete copy of the build output at ``url`` (for ``stats`` and ``inspect``):
    refused when it has no manifest (an incomplete or unfinished output)."""
    fs, root = open_url(url)
    files = _list(fs, root, url)
    if MANIFEST not in files:
        raise UserError(
            f"{display_url(url)} has no {MANIFEST}: not a finished jmedcorpus output (a build still "
            "uploading, or an interrupted one: re-run it)"
        )
    return _mirror(fs, root, url, files, progress)


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _write_json(path: str, data: dict) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
