"""PDF documents rendered from templates in ``templates/pdf/`` with WeasyPrint."""

import functools
import io

from django.template.loader import render_to_string
from django.utils import translation


@functools.cache
def _url_fetcher():
    """
    One fetcher per process, reading ``data:`` URLs only: the documents load
    nothing from outside (text people typed cannot make the renderer fetch
    anything), and the default fetcher's TLS set-up is not paid per document.
    """
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_pdf(template_name, context, *, language="fr") -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template_name, context)
    return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf()


def concatenate(*documents: bytes) -> bytes:
    """One PDF made of the pages of ``documents``, in order."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for document in documents:
        writer.append(io.BytesIO(document))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def convention_pdf(terms) -> bytes:
    """The convention as sent for signature, from its frozen terms."""
    language = terms.get("language", "fr")
    template = "pdf/convention_en.html" if language == "en" else "pdf/convention_fr.html"
    return render_pdf(template, {"t": terms}, language=language)
