"""The owner's report as a PDF, drawn with ReportLab. Chinese text is set in ReportLab's built-in
STSong-Light CID font, which needs no font file on the server (the reader's PDF viewer supplies
the glyphs), so the PDF is the same on any machine that installs the app from PyPI."""
from __future__ import annotations

import io
from typing import Callable

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from server.custody.report import Report
from server.custody.words import REPORT_WORDS, SERVICE_WORDS, word

FONT = "STSong-Light"
THUMB = 36 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


class _Writer:
    """Lines top-down on A4 pages, a new page when the space runs out."""

    def __init__(self, pdf: canvas.Canvas):
        self.pdf, self.font = pdf, _font()
        self.width, self.height = A4
        self.margin = 18 * mm
        self.y = self.height - self.margin

    def room(self, needed: float) -> None:
        if self.y - needed < self.margin:
            self.pdf.showPage()
            self.y = self.height - self.margin

    def line(self, text: str, size: float = 10.5, indent: float = 0) -> None:
        per_line = max(10, int((self.width - 2 * self.margin - indent) / size))  # CJK glyphs are 1 em wide
        for start in range(0, max(len(text), 1), per_line):
            self.room(size * 1.6)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(self.margin + indent, self.y - size, text[start:start + per_line])
            self.y -= size * 1.6

    def images(self, thumbs: list[bytes]) -> None:
        x = self.margin
        for data in thumbs:
            if x + THUMB > self.width - self.margin:
                x = self.margin
                self.y -= THUMB + 4 * mm
            self.room(THUMB + 4 * mm)
            try:
                self.pdf.drawImage(ImageReader(io.BytesIO(data)), x, self.y - THUMB, THUMB, THUMB,
                                   preserveAspectRatio=True, anchor="c")
            except OSError:  # a thumbnail the store could not give whole: leave its place empty
                pass
            x += THUMB + 4 * mm
        if thumbs:
            self.y -= THUMB + 4 * mm


def render(report: Report, *, address: str, language: str, thumbnail: Callable[[str], bytes | None]) -> bytes:
    """The report's PDF; `thumbnail(sha256)` gives a photo's thumbnail (None when the store lost it)."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(word(REPORT_WORDS, "title", language))
    w = _Writer(pdf)

    def t(key: str) -> str:
        return word(REPORT_WORDS, key, language)

    w.line(t("title"), 18)
    w.line(f"{t('month')}: {report.month:%Y-%m}    {t('home')}: {report.community.name} {address}")
    contract = report.contract
    if contract is not None:
        end = contract.end_date.isoformat() if contract.end_date else t("until_notice")
        w.line(f"{t('period')}: {contract.start_date.isoformat()} – {end}")
        w.line(f"{t('services')}: " + "、".join(word(SERVICE_WORDS, s, language) for s in contract.services))
    w.line("")
    w.line(t("found"), 13)
    if not report.problems:
        w.line(t("no_problem"), indent=4 * mm)
    for checked, service, note in report.problems:
        w.line(f"{checked.local_time}  {word(SERVICE_WORDS, service, language)}: {note}", indent=4 * mm)
    w.line("")
    w.line(t("inspections"), 13)
    if not report.inspections:
        w.line(t("none"), indent=4 * mm)
    for checked in report.inspections:
        w.line(f"{t('when')}: {checked.local_time}", 11.5)
        for service, ok, note in checked.answers:
            state = t("ok") if ok else t("problem")
            w.line(f"{word(SERVICE_WORDS, service, language)}: {state}" + (f" — {note}" if note else ""), indent=4 * mm)
        if checked.inspection.done:
            w.line(f"{t('done')}: {checked.inspection.done}", indent=4 * mm)
        w.images([data for data in (thumbnail(p.sha256) for p in checked.photos) if data])
        w.line("")
    w.line(t("footer"), 8)
    pdf.save()
    return out.getvalue()
