"""Write the small PDF, Word, PowerPoint and HTML files tests/test_formats.py indexes and asks about.

The writers are needed only here, not by labchat or its tests (the files are committed):

    .venv/bin/python -m pip install --target /tmp/makers fpdf2 python-docx python-pptx
    PYTHONPATH=/tmp/makers .venv/bin/python tests/data/formats/make.py

Every fact is invented, so an answer can only come from these files. Each PDF fact sits on one page, so a
test can tell which page a source came from.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from fpdf import FPDF
from PIL import Image, ImageDraw
from pptx import Presentation

HERE = Path(__file__).parent
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
"""A fixed creation date, so running the script again writes the same PDFs."""

REPORT_PAGES = [
    ("Lindqvist Harbor Survey",
     "The survey of Lindqvist Harbor was commissioned by the Vesterby port authority in March 2019. "
     "Its aim was to chart the harbor floor before the new ferry terminal is built."),
    ("Depth measurements",
     "The survey team measured a maximum depth of 14.2 metres at the northern berth. "
     "Divers confirmed the reading at low tide on three separate mornings."),
    ("Recommendations",
     "The report recommends dredging the southern berth before the ferry terminal opens. "
     "Work should avoid the spawning season of the local herring."),
]


def pdf(pages: list[tuple[str, str]], title: str) -> FPDF:
    """A text PDF, one heading and paragraph per page."""
    doc = FPDF()
    doc.set_creation_date(WHEN)
    doc.set_title(title)
    for heading, text in pages:
        doc.add_page()
        doc.set_font("Helvetica", "B", 16)
        doc.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        doc.set_font("Helvetica", size=12)
        doc.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    return doc


def scanned() -> FPDF:
    """A page that is only a picture of text, as a scanner makes it: no text layer to read."""
    picture = Image.new("L", (800, 200), 255)
    ImageDraw.Draw(picture).text((20, 80), "The Marrow Street bakery opens at 6 am.", fill=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    doc = FPDF()
    doc.set_creation_date(WHEN)
    doc.add_page()
    doc.image(buffer, x=10, y=10, w=190)
    return doc


def docx(path: Path) -> None:
    doc = Document()
    doc.add_heading("Orchard Cooperative", level=1)
    doc.add_paragraph("The Orchard Cooperative was founded by Marta Ilves in 1987 in Kallaste.")
    doc.add_heading("Orchards", level=2)
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Apple variety", "Trees"
    for variety, trees in (("Antonovka", "340"), ("Sinap", "120")):
        row = table.add_row().cells
        row[0].text, row[1].text = variety, trees
    doc.save(path)


def pptx(path: Path) -> None:
    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "Project Kestrel"
    first.placeholders[1].text = "Quarterly update of the weather balloon team"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Launch plan"
    body = second.placeholders[1].text_frame
    body.text = "The Kestrel weather balloon launches on 12 May 2024 from Saaremaa."
    body.add_paragraph().text = "The launch budget is 48,000 euros."
    deck.save(path)


HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tern Valley Library</title>
<style>body { font-family: serif; }</style><script>var visits = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/events">Events</a></nav>
<h1>Tern Valley Library</h1>
<p>The Tern Valley Library holds 42,000 books and opens at 9 am on weekdays.</p>
<h2>Reading room</h2>
<ul><li>Quiet study for 30 people</li><li>Free wireless network</li></ul>
</body></html>
"""


def main() -> None:
    pdf(REPORT_PAGES, "Lindqvist Harbor Survey").output(str(HERE / "report.pdf"))
    locked = pdf([("Sorrel Bridge", "The Sorrel Bridge was repainted green in 2011.")], "Sorrel Bridge")
    locked.set_encryption(owner_password="owner")  # opens without a password; editing is restricted
    locked.output(str(HERE / "permissions.pdf"))
    secret = pdf([("Payroll", "The payroll is confidential.")], "Payroll")
    secret.set_encryption(owner_password="owner", user_password="secret")  # needs a password to open
    secret.output(str(HERE / "encrypted.pdf"))
    scanned().output(str(HERE / "scanned.pdf"))
    whole = (HERE / "report.pdf").read_bytes()
    (HERE / "corrupt.pdf").write_bytes(whole[:9] + bytes(range(256)) * 8)  # a PDF header, then noise
    docx(HERE / "cooperative.docx")
    pptx(HERE / "kestrel.pptx")
    (HERE / "library.html").write_text(HTML, encoding="utf-8")


if __name__ == "__main__":
    main()
