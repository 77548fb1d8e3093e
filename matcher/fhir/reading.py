"""FHIR R4 resources out of Bundle JSON files, Bulk Data NDJSON files and directories of them, one at a time.

An NDJSON file is read line by line, so memory does not grow with the export; a Bundle is one JSON document and is
read whole.  A line or entry that is not a JSON object is yielded as a Problem with its place, never dropped.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError

Resource = dict[str, Any]

# Resource types whose files are read first (a Bulk export names each file by its type, Patient.ndjson,
# Patient.001.ndjson): rows come from Patients, and medicationReference points at Medications.
_FIRST = ("Patient", "Medication")
_TYPE_NAME = re.compile(r"[A-Za-z]*")
_SUFFIXES = (".ndjson", ".json", ".jsonl")
_decode = json.JSONDecoder().decode  # on text lines: json.loads would sniff each line's encoding first


@dataclass(frozen=True)
class Problem:
    """A resource that could not be used: where it is, its type/id when known, and why."""

    where: str
    resource: str
    why: str

    def line(self) -> str:
        named = f" {self.resource}" if self.resource else ""
        return f"{self.where}{named}: {self.why}"


def input_files(paths: list[Path]) -> list[Path]:
    """The files to read: each path, or the NDJSON/JSON files of a directory; Patients and Medications first."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES))
            if not found:
                raise MatcherError(f"{path}: no .ndjson or .json files in the directory")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise MatcherError(f"{path}: no such file or directory")
    return sorted(files, key=_reading_order)


def _reading_order(path: Path) -> int:
    kind = _TYPE_NAME.match(path.name)
    return _FIRST.index(kind.group()) if kind and kind.group() in _FIRST else len(_FIRST)


def reference_of(resource: Resource) -> str:
    """``Type/id`` of a resource, for messages and provenance."""
    kind, ident = resource.get("resourceType"), resource.get("id")
    return f"{kind}/{ident}" if isinstance(kind, str) and isinstance(ident, str) else str(kind or "")


def read_file(
    path: Path, aliases: dict[str, str], progress: Callable[[int], None] | None = None
) -> Iterator[tuple[str, Resource | Problem]]:
    """(place, resource or problem) for each resource of one file.

    ``aliases`` gets each Bundle entry's fullUrl mapped to its ``Type/id``, so ``urn:uuid:`` references resolve.
    ``progress(bytes)`` is called with the bytes read since the last call.
    """
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096).lstrip()
            stream.seek(0)
            if path.name.lower().endswith((".ndjson", ".jsonl")) or not head.startswith(b"{") or _looks_ndjson(head):
                yield from _ndjson(path, stream, progress)
                return
            text = stream.read()
    except OSError as exc:
        raise MatcherError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if progress:
        progress(len(text))
    try:
        document = json.loads(text)
    except ValueError as exc:
        yield str(path), Problem(str(path), "", f"not JSON ({exc})")
        return
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        yield from _bundle(path, document, aliases)
    elif isinstance(document, dict):
        yield str(path), document
    else:
        yield str(path), Problem(str(path), "", "not a FHIR resource (a JSON object with a resourceType)")


def _looks_ndjson(head: bytes) -> bool:
    """A .json file holding one resource per line (some exports name NDJSON so)."""
    first = head.split(b"\n", 1)
    if len(first) < 2:
        return False
    try:
        return isinstance(json.loads(first[0]), dict) and first[1].lstrip().startswith(b"{")
    except ValueError:
        return False


def _ndjson(
    path: Path, stream: Any, progress: Callable[[int], None] | None
) -> Iterator[tuple[str, Resource | Problem]]:
    pending = 0
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="\n")
    for number, line in enumerate(text, start=1):
        pending += len(line)
        if progress and pending >= 1 << 20:
            progress(pending)
            pending = 0
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            resource = _decode(line)
        except ValueError as exc:
            yield where, Problem(where, "", f"not JSON ({exc})")
            continue
        if not isinstance(resource, dict):
            yield where, Problem(where, "", "not a FHIR resource (a JSON object with a resourceType)")
            continue
        yield where, resource
    if progress and pending:
        progress(pending)


def _bundle(path: Path, bundle: Resource, aliases: dict[str, str]) -> Iterator[tuple[str, Resource | Problem]]:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        yield str(path), Problem(str(path), reference_of(bundle), "Bundle.entry is not a list")
        return
    for number, entry in enumerate(entries):
        where = f"{path}#entry[{number}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            yield where, Problem(where, "", "the entry has no resource")
            continue
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and resource.get("id"):
            aliases[full_url] = reference_of(resource)
        yield where, resource
