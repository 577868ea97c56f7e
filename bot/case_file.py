"""Reading a case list for `koopbot import cases`: CSV (`;`, UTF-8, also with BOM) or XLSX.

The first row names the columns (see `config/faelle-vorlage.csv`); German spellings with
umlauts, spaces or hyphens are accepted. Cell values come back as text, so CSV and XLSX go
through the same parsers; XLSX dates become `17.04.2025` (with ` 10:00` when they carry a time).
Nothing of a cell's content is ever put into an error message: it may be a client's name (P1).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from bot.errors import UserError

# The columns, each with the header spellings it accepts (compared after `_header_key`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "aktenzeichen": ("aktenzeichen", "az", "fall", "fallnummer", "code"),
    "rechtsgrundlage": ("rechtsgrundlage", "hilfeart", "paragraf", "paragraph"),
    "hilfebeginn": ("hilfebeginn", "beginn", "start"),
    "traeger": ("traeger", "freier_traeger", "leistungserbringer"),
    "asd": ("asd", "asd_buero", "stadtteilbuero", "jugendamt"),
    "fachkraft_traeger": ("fachkraft_traeger", "zustaendig_traeger", "kuerzel_traeger"),
    "fachkraft_asd": ("fachkraft_asd", "zustaendig_asd", "kuerzel_asd"),
    "empfehlung": ("empfehlung", "mitarbeitendenart"),
    "kinderschutz": ("kinderschutz", "kinderschutzrelevant"),
    "berichtsintervall": ("berichtsintervall", "bericht", "berichte"),
    "naechstes_hpg": ("naechstes_hpg", "hpg", "naechster_hpg_termin"),
}
REQUIRED = ("aktenzeichen", "rechtsgrundlage", "hilfebeginn")
TEMPLATE_HINT = "Die Vorlage config/faelle-vorlage.csv zeigt die Spalten."

_BY_SPELLING = {spelling: column for column, spellings in COLUMNS.items() for spelling in spellings}


class FileError(UserError):
    """The file as a whole cannot be read; nothing is imported."""


@dataclass(frozen=True)
class RawRow:
    line: int  # the row's number in the file (the header is row 1)
    values: dict[str, str]  # column -> stripped text; empty cells are left out
    surplus: bool = False  # more cells than the header names


def _header_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).strip().lower().lstrip("\ufeff")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(umlaut, plain)
    for sep in (" ", "-", "."):
        s = s.replace(sep, "_")
    return "_".join(part for part in s.split("_") if part)


def columns_of(header: Sequence[str]) -> list[str | None]:
    """The column each header cell names (None for an empty trailing cell); refuses the rest."""
    columns: list[str | None] = []
    for position, cell in enumerate(header, start=1):
        key = _header_key(cell)
        if not key:
            columns.append(None)
            continue
        column = _BY_SPELLING.get(key)
        if column is None:
            # By position only: a first row without headers would otherwise echo data.
            raise FileError(
                f"Die Spalte {position} der ersten Zeile kenne ich nicht. Die erste Zeile muss "
                f"die Spaltennamen enthalten. {TEMPLATE_HINT}"
            )
        if column in columns:
            raise FileError(f"Die Spalte „{column}“ steht doppelt in der ersten Zeile.")
        columns.append(column)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FileError(f"Es fehlt die Spalte {', '.join(missing)}. {TEMPLATE_HINT}")
    if "traeger" not in columns and "fachkraft_traeger" not in columns:
        raise FileError(f"Es fehlt die Spalte traeger (oder fachkraft_traeger). {TEMPLATE_HINT}")
    if "asd" not in columns and "fachkraft_asd" not in columns:
        raise FileError(f"Es fehlt die Spalte asd (oder fachkraft_asd). {TEMPLATE_HINT}")
    return columns


def _row(line: int, columns: Sequence[str | None], cells: Sequence[str]) -> RawRow:
    values: dict[str, str] = {}
    surplus = False
    for index, cell in enumerate(cells):
        text = cell.strip()
        if index >= len(columns) or columns[index] is None:
            surplus = surplus or bool(text)
            continue
        if text:
            column = columns[index]
            assert column is not None
            values[column] = text
    return RawRow(line, values, surplus)


@dataclass(frozen=True)
class CaseFile:
    columns: list[str | None]
    rows: list[RawRow]  # in file order, blank rows left out


def read_case_file(path: Path) -> CaseFile:
    """All rows of the file; a file that cannot be read raises FileError (German)."""
    if not path.is_file():
        raise FileError("Die Datei gibt es nicht (oder sie ist ein Ordner).")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise FileError("Bitte eine CSV-Datei (Trennzeichen ;) oder eine XLSX-Datei angeben.")
    return _read_csv(path)


def _read_csv(path: Path) -> CaseFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise FileError(
            f"Die Datei ist nicht in UTF-8 gespeichert (zuerst in Zeile {line}). Bitte als "
            "„CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise FileError(f"Die Datei ist leer. {TEMPLATE_HINT}")
        if len(header) == 1 and "," in header[0]:
            raise FileError("Die Spalten sind mit Komma getrennt; erwartet wird das Semikolon (;).")
        columns = columns_of(header)
        rows = [
            _row(reader.line_num, columns, cells)
            for cells in reader
            if any(c.strip() for c in cells)
        ]
    except csv.Error:
        raise FileError(
            f"Die CSV-Datei ist in Zeile {reader.line_num} beschädigt (z. B. ein "
            "Anführungszeichen ohne Gegenstück)."
        ) from None
    return CaseFile(columns, rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        shown = value.strftime("%d.%m.%Y")
        return shown if value.time() == time(0) else f"{shown} {value.strftime('%H:%M')}"
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path) -> CaseFile:
    from openpyxl import load_workbook  # loads only when an XLSX file is imported

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a damaged file
        raise FileError(
            "Die XLSX-Datei lässt sich nicht öffnen (beschädigt oder kein XLSX)."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = next(cells, None)
        if header is None:
            raise FileError(f"Die Tabelle ist leer. {TEMPLATE_HINT}")
        columns = columns_of([_cell_text(v) for v in header])
        rows = []
        for line, values in enumerate(cells, start=2):
            texts = [_cell_text(v) for v in values]
            if any(t.strip() for t in texts):
                rows.append(_row(line, columns, texts))
    finally:
        workbook.close()
    return CaseFile(columns, rows)
