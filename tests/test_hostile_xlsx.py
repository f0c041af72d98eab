"""Hostile spreadsheets: each is refused with a clear message, nothing is stored, and reading it
costs less than 100 MB above the process's baseline (measured in a separate process)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import BureauImport
from tests.conftest import Browser

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="xml" ContentType="application/xml"/></Types>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"""
RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
 Target="worksheets/sheet1.xml"/></Relationships>"""
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def workbook(sheet: str | bytes | None, *, shared: bytes | None = None, chunks=None,
             rels: str = RELS) -> bytes:
    """A minimal XLSX; ``chunks`` streams a large sheet part without holding it in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
        if chunks is not None:
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
        elif sheet is not None:
            archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def _many_rows(n: int):
    yield SHEET_HEAD.encode() + b"<sheetData>"
    row = b'<row><c t="inlineStr"><is><t>JR1</t></is></c><c t="inlineStr"><is><t>x</t></is></c></row>'
    for _ in range(n // 10_000):
        yield row * 10_000
    yield b"</sheetData></worksheet>"


def _deflate_bomb():
    yield SHEET_HEAD.encode() + b'<sheetData><row><c t="inlineStr"><is><t>'
    for _ in range(200):
        yield b" " * (1024 * 1024)  # 200 MB of spaces, a few hundred KB compressed
    yield b"</t></is></c></row></sheetData></worksheet>"


HOSTILE = {
    "dimension bomb": (lambda: workbook(
        SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData><row r="1048576">'
        '<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'), "文件"),
    "three million rows": (lambda: workbook(None, chunks=_many_rows(3_000_000)), "行数过多"),
    "deflate bomb": (lambda: workbook(None, chunks=_deflate_bomb()), "解压后超过"),
    "XXE": (lambda: workbook(
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>'
        '<c t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>'), "DTD"),
    "billion laughs": (lambda: workbook(
        SHEET_HEAD + '<sheetData><row><c t="s"><v>0</v></c></row></sheetData></worksheet>',
        shared=(b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><sst xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><si><t>&c;</t></si></sst>')), "DTD"),
    "bad XML": (lambda: workbook(SHEET_HEAD + "<sheetData><row><c>"), "损坏"),
    "missing sheet": (lambda: workbook(None), "找不到第一个工作表"),
    "sheet outside the archive": (lambda: workbook(SHEET_HEAD + "<sheetData/></worksheet>",
                                                   rels=RELS.replace("worksheets/sheet1.xml", "../../etc/x.xml")),
                                  "找不到第一个工作表"),
    "not a zip": (lambda: b"PK\x03\x04 this is not really a zip file", "不是有效的 .xlsx"),
    "huge cell": (lambda: workbook(SHEET_HEAD + '<sheetData><row><c t="inlineStr"><is><t>' + "字" * 600
                                   + "</t></is></c></row></sheetData></worksheet>"), "单元格内容超过"),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("xlsx")
    paths = {}
    for name, (make, _message) in HOSTILE.items():
        path = folder / (name.replace(" ", "-") + ".xlsx")
        path.write_bytes(make())
        paths[name] = str(path)
    return paths


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_upload_is_a_422_with_a_message_and_stores_nothing(app, users, hostile_files, name):
    carol = Browser(app, "carol")
    data = open(hostile_files[name], "rb").read()  # noqa: SIM115
    assert len(data) < 8 * 1024 * 1024, "the hostile file must pass the upload size limit to test the reader"
    response = carol.post("/bureau/imports", {"file": (io.BytesIO(data), "results.xlsx")},
                          content_type="multipart/form-data")
    assert response.status_code == 422, (name, response.status_code)
    assert HOSTILE[name][1] in response.get_data(as_text=True), name
    with app.app_context():
        assert db.session.scalar(select(func.count(BureauImport.id))) == 0


MEASURE = """
import json, resource, sys
from console.services import imports
from console.services.errors import Invalid
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    imports.parse_upload("r.xlsx", data)
    outcome = "parsed"
except Invalid as exc:
    outcome = "refused"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "grew_kb": after - before}))
"""


@pytest.mark.parametrize("name", ["dimension bomb", "three million rows", "deflate bomb", "billion laughs"])
def test_reading_a_hostile_file_costs_under_100_mb(hostile_files, name):
    result = subprocess.run([sys.executable, "-c", MEASURE, hostile_files[name]], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["outcome"] == "refused"
    assert measured["grew_kb"] < 100 * 1024, measured
