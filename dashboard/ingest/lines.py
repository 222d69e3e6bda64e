"""Physical line numbers of a CSV file's records, so rows and rejects can name their line.

DuckDB numbers a rejected record by counting records and blank lines (a quoted cell that spans
several lines counts once) and gives no number at all to the records it reads. ``RecordIndex``
lists every data record of the file (header excluded, blank lines skipped as DuckDB skips them)
with DuckDB's number for it and its first and last physical line (header = line 1), the line a
text editor shows.

Two ways to build it: ``index_by_quotes`` (numpy, fast: a line end outside quotes ends a
record) and ``index_by_csv_module`` (Python's csv module, slower, exact for stray quotes inside
unquoted cells, which break quote parity). The first hands a file with such a stray quote to
the second, and the caller uses the second when the first disagrees with DuckDB on the number
of records. Both also check that the file is UTF-8 and raise NotUtf8Error, naming the first
line that is not, when it is not. ``record_texts`` reads records' own lines back, to show the
rejected ones.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dashboard.ingest.report import IngestError

MIXED_ENCODINGS = (
    "This file mixes UTF-8 text with another encoding (line {line}); save it as 'CSV UTF-8' "
    "and upload it again."
)
_CHUNK_BYTES = 1 << 24
_CSV_FIELD_LIMIT = 2**31 - 1
_LF, _CR, _QUOTE = ord("\n"), ord("\r"), ord('"')


class NotUtf8Error(IngestError):
    """Text that is not UTF-8 from ``line`` on; ``mixed`` when UTF-8 accents come before it.

    A file with only ASCII before its first other byte is simply in another encoding (the
    reader then takes it as Windows-1252); a mixed one cannot be read either way.
    """

    def __init__(self, line: int, mixed: bool) -> None:
        super().__init__(MIXED_ENCODINGS.format(line=line))
        self.line = line
        self.mixed = mixed


@dataclass(frozen=True)
class RecordIndex:
    """Per data record: ``duck_lines`` (DuckDB's number), ``start_lines``, ``end_lines``.

    A file whose every line is one record (the usual case) keeps no arrays: ``lines`` is None
    and the arrays are made on demand (record n is line n + 2), so a 10M-line file's index
    costs nothing until something asks for it.
    """

    count: int
    physical_lines: int
    lines: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def duck_lines(self) -> np.ndarray:
        """DuckDB's number of each record (a quoted multi-line cell counts once)."""
        return self._arrays()[0]

    @property
    def start_lines(self) -> np.ndarray:
        """The physical line each record starts on (header = line 1)."""
        return self._arrays()[1]

    @property
    def end_lines(self) -> np.ndarray:
        """The physical line each record ends on."""
        return self._arrays()[2]

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.lines is not None:
            return self.lines
        numbers = np.arange(2, self.count + 2)
        return numbers, numbers, numbers

    def __len__(self) -> int:
        return self.count

    def is_one_line_per_record(self) -> bool:
        """Whether record n is line n + 2 for every n: no multi-line cells, no blank lines."""
        if self.lines is None or self.count == 0:
            return True
        start_lines, end_lines = self.lines[1], self.lines[2]
        return bool(
            start_lines[0] == 2
            and end_lines[-1] == self.count + 1
            and np.array_equal(start_lines, end_lines)
        )


def index_by_quotes(path: Path, delimiter: str = ",") -> RecordIndex:
    """Index records by quote parity: a line end after an even number of quotes ends a record.

    Exact when quotes open and close cells as the CSV standard says (doubled quotes inside a
    quoted cell keep the parity). A stray quote inside an unquoted cell (``5" screen``) would
    break the parity, so a file with one is indexed by ``index_by_csv_module`` instead.
    """
    regular = _count_one_line_records(path)
    if regular is not None:
        return RecordIndex(*regular)
    ends, quotes, crs, size, stray = _scan(path, delimiter)
    if stray:
        return index_by_csv_module(path, delimiter)
    if size and (len(ends) == 0 or ends[-1] != size - 1):
        ends = np.append(ends, size)  # the last line has no line end
    closes = np.searchsorted(quotes, ends) % 2 == 0
    line_starts = np.concatenate(([0], ends[:-1] + 1))
    blank = ends - line_starts - _contains(crs, ends - 1).astype(np.int64) == 0
    starts = np.concatenate(([0], np.flatnonzero(closes[:-1]) + 1))
    record_ends = np.flatnonzero(closes)
    if len(record_ends) < len(starts):  # an unterminated quote runs to the end of the file
        record_ends = np.append(record_ends, len(ends) - 1)
    # DuckDB counts every record and blank line once, whatever the lines inside quotes.
    duck_lines = np.arange(1, len(starts) + 1)
    kept = ~blank[starts]
    starts, record_ends, duck_lines = starts[kept], record_ends[kept], duck_lines[kept]
    lines = (duck_lines[1:], starts[1:] + 1, record_ends[1:] + 1)
    return RecordIndex(len(lines[0]), len(ends), lines)


class _PlainLines:
    """Counts the lines of chunks fed in file order while every line is plainly one record:
    no quote character (so no cell spans lines), no carriage return, no blank line."""

    def __init__(self) -> None:
        self.lines, self.previous, self.plain = 0, b"\n", True

    def feed(self, chunk: bytes) -> None:
        if not self.plain:
            return
        blank = b"\n\n" in chunk or (self.previous.endswith(b"\n") and chunk.startswith(b"\n"))
        if blank or b'"' in chunk or b"\r" in chunk:
            self.plain = False
            return
        self.lines += chunk.count(b"\n")
        self.previous = chunk


def lines_are_plain(path: Path, count: int) -> bool:
    """Return whether the file's first ``count`` lines are each plainly one record (no quote
    character, no carriage return, no blank line), so record k (from 0) is on line k + 2.

    Reads only as far as those lines, in whole chunks: a quote shortly after them also answers
    False (the caller then indexes the whole file by quotes).
    """
    counter = _PlainLines()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            counter.feed(chunk)
            if not counter.plain:
                return False
            if counter.lines >= count:
                return True
    return counter.plain


def record_texts(path: Path, spans: list[tuple[int, int]], max_chars: int) -> list[str | None]:
    """Return the text of each span of physical lines (first, last; header = line 1) as the file
    holds it: line ends between its lines kept, its final line end left out, cut at
    ``max_chars``. ``spans`` are sorted by first line and do not overlap; a span past the end of
    the file gives None. One pass, up to the last span's line; a long span keeps only its start.
    """
    texts: list[str | None] = []
    kept = b""
    room = 4 * max_chars + 4  # UTF-8 bytes enough for max_chars characters and a line end
    with Path(path).open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if len(texts) == len(spans):
                break
            first, last = spans[len(texts)]
            if number >= first and len(kept) < room:
                kept += line[: room - len(kept)]
            if number == last:
                end = -2 if kept.endswith(b"\r\n") else -1 if kept.endswith(b"\n") else None
                texts.append(kept[:end].decode("utf-8", errors="replace")[:max_chars])
                kept = b""
    return texts + [None] * (len(spans) - len(texts))


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of the file's bytes, as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def index_by_csv_module(path: Path, delimiter: str) -> RecordIndex:
    """Index records as Python's csv module splits them (quotes open a cell only at its start)."""
    duck_lines, start_lines, end_lines = array("q"), array("q"), array("q")
    embedded = 0  # line ends inside quoted cells so far, which DuckDB's numbers leave out
    end = 0
    header_seen = False
    previous_limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            # DuckDB, like this option, lets spaces stand before an opening quote.
            reader = csv.reader(fh, delimiter=delimiter, skipinitialspace=True)
            for record in reader:
                start, end = end + 1, reader.line_num
                if record and header_seen:
                    duck_lines.append(start - embedded)
                    start_lines.append(start)
                    end_lines.append(end)
                header_seen = header_seen or bool(record)
                embedded += end - start
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    except csv.Error as exc:
        raise IngestError(f"The file could not be read as CSV near line {end + 1}.") from exc
    finally:
        csv.field_size_limit(previous_limit)
    arrays = (np.asarray(duck_lines), np.asarray(start_lines), np.asarray(end_lines))
    return RecordIndex(len(arrays[0]), end, arrays)


def _count_one_line_records(path: Path) -> tuple[int, int] | None:
    """Return (data records, physical lines) when every line of the file is one record.

    One streaming pass that keeps only counts: no line end inside quotes, no blank line, quotes
    balanced at the end. None when any of that fails (the full index is then built).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    parity, lines, previous_end, last_byte, size = 0, 0, -1, _LF, 0
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            _decode(decoder, chunk, path)
            view = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(view == _LF)
            quotes = np.flatnonzero(view == _QUOTE)
            if ((np.searchsorted(quotes, ends) + parity) % 2).any():
                return None  # a line end inside a quoted cell
            parity = (parity + len(quotes)) % 2
            if len(ends):
                # A line runs from the byte after the previous line end: blank when empty or a CR.
                starts = np.concatenate(([previous_end + 1 - size], ends[:-1] + 1))
                before = np.where(ends > 0, view[np.maximum(ends - 1, 0)], last_byte)
                if (ends - starts - (before == _CR) <= 0).any():
                    return None
                previous_end = size + int(ends[-1])
                lines += len(ends)
            last_byte = int(view[-1])
            size += len(chunk)
    _decode(decoder, b"", path, final=True)
    if parity or size == 0:
        return None
    if previous_end != size - 1:
        if previous_end == size - 2 and last_byte == _CR:
            return None  # a last line holding only a CR is blank
        lines += 1  # the last line has no line end
    return lines - 1, lines


def _scan(path: Path, delimiter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """Return the byte positions of line feeds, quotes and carriage returns, the size, and
    whether some quote is stray: neither after a cell's start (a delimiter, line end, space or
    quote) nor before its end (a delimiter, line end or quote)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    found: dict[int, list[np.ndarray]] = {_LF: [], _QUOTE: [], _CR: []}
    opening = np.array([ord(delimiter), _LF, _CR, _QUOTE, ord(" ")], dtype=np.uint8)
    closing = np.array([ord(delimiter), _LF, _CR, _QUOTE], dtype=np.uint8)
    size, stray, last_byte = 0, False, _LF
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            _decode(decoder, chunk, path)
            view = np.frombuffer(chunk, dtype=np.uint8)
            for byte, parts in found.items():
                parts.append(np.flatnonzero(view == byte) + size)
            at = found[_QUOTE][-1] - size
            before = np.where(at > 0, view[np.maximum(at - 1, 0)], last_byte)
            # A quote ending a chunk is taken as closing: the next chunk is not read yet.
            after = np.where(at + 1 < len(view), view[np.minimum(at + 1, len(view) - 1)], _LF)
            stray = stray or bool((~np.isin(before, opening) & ~np.isin(after, closing)).any())
            last_byte = int(view[-1])
            size += len(chunk)
    _decode(decoder, b"", path, final=True)
    ends, quotes, crs = (
        np.concatenate(parts) if parts else np.empty(0, np.int64) for parts in found.values()
    )
    return ends, quotes, crs, size, stray


def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes, path: Path, final: bool = False):
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc


def _not_utf8(path: Path) -> NotUtf8Error:
    """The error naming the physical line (from 1) of the first byte that is not UTF-8."""
    accents = False
    number = 0
    with Path(path).open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return NotUtf8Error(number, mixed=accents)
            accents = accents or not line.isascii()
    return NotUtf8Error(number, mixed=accents)


def _contains(sorted_values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Whether each candidate is one of ``sorted_values``."""
    if len(sorted_values) == 0:
        return np.zeros(len(candidates), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, candidates), len(sorted_values) - 1)
    return sorted_values[at] == candidates
