"""PDF documents rendered from templates in ``templates/pdf/`` with WeasyPrint."""

import functools
import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation

# A document rendered on request is kept this long for its next download.
RENDERED_PDF_SECONDS = 24 * 60 * 60


@functools.cache
def _url_fetcher():
    """
    One fetcher per process, reading ``data:`` URLs only: the documents load
    nothing from outside (text people typed cannot make the renderer fetch
    anything), and the default fetcher's TLS set-up is not paid per document.
    """
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_html(template_name, context, *, language="fr") -> str:
    with translation.override(language):
        return render_to_string(template_name, context)


def html_to_pdf(html) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf()


def render_pdf(template_name, context, *, language="fr") -> bytes:
    return html_to_pdf(render_html(template_name, context, language=language))


def reused_pdf(html: str) -> bytes:
    """
    The PDF of ``html``, rendered once and reused (``CACHES``) while the
    document stays the same: for documents rendered on each download. The key
    is the SHA-256 of the HTML, which holds everything the PDF shows (styles
    and charts are inline; nothing is fetched), with the renderer's version:
    any change to the content is another key, so a document never shows
    anything but what its HTML says now.
    """
    from weasyprint import __version__ as renderer

    digest = hashlib.sha256(html.encode()).hexdigest()
    return cache.get_or_set(
        f"pdf:{renderer}:{digest}", lambda: html_to_pdf(html), RENDERED_PDF_SECONDS
    )


def convention_html(terms, *, final=None) -> str:
    """
    The convention from its frozen terms: as sent for signature, or, given
    ``final`` (the filled signature blocks and the evidence annexes, see
    ``services.convention.final_document``), as the final signed document,
    one HTML document so that its pages are numbered continuously.
    """
    language = terms.get("language", "fr")
    template = "pdf/convention_en.html" if language == "en" else "pdf/convention_fr.html"
    return render_html(template, {"t": terms, "final": final}, language=language)


def convention_pdf(terms, *, final=None) -> bytes:
    return html_to_pdf(convention_html(terms, final=final))
