"""
ZIP archives written piece by piece: into a file, or streamed to the browser
as they are built. Stored files are copied in chunks, never read whole, so the
memory used does not grow with the archive.
"""

import csv
import hashlib
import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator

CHUNK_SIZE = 64 * 1024


class _Sink(io.RawIOBase):
    """An unseekable output that keeps what was written until it is taken."""

    def __init__(self):
        super().__init__()
        self._chunks = []

    def writable(self):
        return True

    def write(self, data):
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class ZipWriter:
    """Adds entries to a ZIP written to ``fileobj`` (seekable or not)."""

    def __init__(self, fileobj):
        self._zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED)

    def add_file(self, name: str, source, *, compress=False) -> str:
        """
        Copy the open binary file ``source`` into entry ``name``, in chunks;
        stored as is unless ``compress`` (PDFs are compressed already).
        Returns its SHA-256.
        """
        digest = hashlib.sha256()
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with self._zip.open(info, "w") as entry:
            while chunk := source.read(CHUNK_SIZE):
                digest.update(chunk)
                entry.write(chunk)
        return digest.hexdigest()

    def add_bytes(self, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)

    def add_json(self, name: str, data) -> None:
        self.add_bytes(
            name, json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        )

    def add_csv(self, name: str, header: list[str], rows: Iterable[list]) -> None:
        """
        A CSV in UTF-8 with a byte-order mark, as spreadsheets expect it;
        written through a temporary file, so that its size costs no memory.
        """
        with tempfile.TemporaryFile() as scratch:
            text = io.TextIOWrapper(scratch, encoding="utf-8-sig", newline="")
            out = csv.writer(text, lineterminator="\r\n")
            out.writerow(header)
            out.writerows(rows)
            text.flush()
            scratch.seek(0)
            self.add_file(name, scratch, compress=True)
            text.detach()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def stream(build: Callable[[ZipWriter], Iterator]) -> Iterator[bytes]:
    """
    Stream the ZIP that ``build`` writes: ``build(writer)`` is a generator
    that adds entries and yields after each one; what was written so far is
    sent on at each yield.
    """
    sink = _Sink()
    writer = ZipWriter(sink)
    for _ in build(writer):
        if data := sink.take():
            yield data
    writer.close()
    yield sink.take()
