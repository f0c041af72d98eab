"""Reading uploaded XLSX files without trusting them.

openpyxl believes a sheet's ``<dimension>`` and pads every row to it, so a 5 KB file that claims
``A1:XFD1048576`` allocates gigabytes. This reader streams the sheet's XML instead (defusedxml:
no DTDs, no entities, no external references), keeps only the first columns, counts rows while it
reads, and stops as soon as any limit is passed: bytes inflated from the archive (a deflate bomb
ends at the limit, not at the end), rows, characters kept, shared strings.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from defusedxml.ElementTree import parse as parse_xml

#: Inflated bytes read from the archive, all parts together.
MAX_INFLATED = 64 * 1024 * 1024
#: Columns kept per row (the results file has four; a few more are tolerated and ignored).
MAX_COLUMNS = 12
#: Characters kept from all cells together, and from one cell.
MAX_TEXT = 4 * 1024 * 1024
MAX_CELL = 500
MAX_SHARED_STRINGS = 500_000

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CELL_REF = re.compile(r"^([A-Z]{1,3})[0-9]{1,7}$")


class SpreadsheetError(ValueError):
    """The file cannot be read within the limits; ``str()`` is a message for the user (Chinese)."""


class _Budget:
    """Bytes inflated and characters kept so far, shared by every part of one file."""

    def __init__(self) -> None:
        self.inflated = 0
        self.text = 0

    def inflate(self, n: int) -> None:
        self.inflated += n
        if self.inflated > MAX_INFLATED:
            raise SpreadsheetError(f"文件解压后超过 {MAX_INFLATED // 1024 // 1024} MB，不像是结果表")

    def keep(self, text: str) -> str:
        if len(text) > MAX_CELL:
            raise SpreadsheetError(f"单元格内容超过 {MAX_CELL} 个字符")
        self.text += len(text)
        if self.text > MAX_TEXT:
            raise SpreadsheetError("文件中的文字过多")
        return text


class _Counted(io.RawIOBase):
    """A zip member read through the budget: reading past the limit raises, whatever the header says."""

    def __init__(self, raw, budget: _Budget):
        self.raw, self.budget = raw, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.raw.read(min(len(buffer), 64 * 1024))
        self.budget.inflate(len(chunk))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def xlsx_rows(data: bytes, *, max_rows: int) -> list[list[str]]:
    """The first sheet's rows (up to ``MAX_COLUMNS`` cells each, as text); ``SpreadsheetError`` past
    ``max_rows`` rows or any other limit, or when the file is not a readable workbook."""
    budget = _Budget()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet = _first_sheet(archive, budget)
            shared = _shared_strings(archive, budget)
            return list(_rows(archive, sheet, shared, budget, max_rows))
    except SpreadsheetError:
        raise
    # NotImplementedError: zipfile's answer to a compression method it does not support.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, NotImplementedError, OSError):
        raise SpreadsheetError("文件不是有效的 .xlsx 工作簿") from None
    except DefusedXmlException:
        raise SpreadsheetError("文件含有不允许的 XML 内容（DTD 或实体）") from None
    except SyntaxError:  # xml.etree's ParseError
        raise SpreadsheetError("工作簿的 XML 已损坏") from None


def _open(archive: zipfile.ZipFile, name: str, budget: _Budget):
    return io.BufferedReader(_Counted(archive.open(name), budget))


def _first_sheet(archive: zipfile.ZipFile, budget: _Budget) -> str:
    """The path of the workbook's first sheet, by the workbook and its relationships."""
    workbook = parse_xml(_open(archive, "xl/workbook.xml", budget), forbid_dtd=True).getroot()
    first = workbook.find(f"{MAIN_NS}sheets/{MAIN_NS}sheet")
    if first is None:
        raise SpreadsheetError("工作簿中没有工作表")
    rel_id = first.get(f"{REL_NS}id")
    rels = parse_xml(_open(archive, "xl/_rels/workbook.xml.rels", budget), forbid_dtd=True).getroot()
    for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if path not in archive.namelist():
                raise SpreadsheetError("工作簿中找不到第一个工作表")
            return path
    raise SpreadsheetError("工作簿中找不到第一个工作表")


def _shared_strings(archive: zipfile.ZipFile, budget: _Budget) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    for _event, element in iterparse(_open(archive, "xl/sharedStrings.xml", budget), events=("end",),
                                     forbid_dtd=True):
        if element.tag == f"{MAIN_NS}si":
            if len(strings) >= MAX_SHARED_STRINGS:
                raise SpreadsheetError("文件中的文字过多")
            text = "".join(t.text or "" for t in element.iter(f"{MAIN_NS}t"))
            strings.append(budget.keep(text[:MAX_CELL + 1]))
            element.clear()
    return strings


def _column(ref: str | None, fallback: int) -> int:
    if not ref:
        return fallback
    match = CELL_REF.match(ref)
    if not match:
        raise SpreadsheetError(f"单元格位置无效：{ref[:20]}")
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index - 1


def _cell_text(cell, shared: list[str], budget: _Budget) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return budget.keep("".join(t.text or "" for t in cell.iter(f"{MAIN_NS}t")))
    value = cell.find(f"{MAIN_NS}v")
    raw = (value.text or "") if value is not None else ""
    if kind == "s":
        try:
            return shared[int(raw)]
        except (ValueError, IndexError):
            raise SpreadsheetError("工作簿引用了不存在的文字") from None
    return budget.keep(raw)


def _rows(archive: zipfile.ZipFile, sheet: str, shared: list[str], budget: _Budget,
          max_rows: int) -> Iterator[list[str]]:
    count = 0
    for _event, element in iterparse(_open(archive, sheet, budget), events=("end",), forbid_dtd=True):
        if element.tag != f"{MAIN_NS}row":
            continue
        count += 1
        if count > max_rows:
            raise SpreadsheetError(f"行数过多：一次最多导入 {max_rows - 1} 行")
        cells: list[str] = []
        for position, cell in enumerate(element.iter(f"{MAIN_NS}c")):
            column = _column(cell.get("r"), position)
            if column < MAX_COLUMNS:
                cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = _cell_text(cell, shared, budget)
        element.clear()
        yield cells
