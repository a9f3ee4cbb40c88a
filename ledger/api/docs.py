"""``/docs``: the OpenAPI document as one self-contained HTML page.

Swagger UI would load its script and styles from a CDN, on the very page where a DPO
types a token; this page has no script, no remote asset and no form, and asks for no
token. Machines read ``/openapi.json``; people read this.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ccc}
.op{margin:1rem 0;padding:.5rem 1rem;border-left:4px solid #3b6ea5;background:#f6f8fa}
.method{font-weight:bold;text-transform:uppercase;margin-right:.5rem}
code{font-size:95%}
table{border-collapse:collapse;margin:.3rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
pre{white-space:pre-wrap}
"""


def _parameters(operation: dict[str, Any]) -> str:
    rows = [
        "<tr>"
        f"<td><code>{escape(p['name'])}</code></td><td>{escape(p.get('in', ''))}</td>"
        f"<td>{'required' if p.get('required') else 'optional'}</td>"
        f"<td>{escape(p.get('description', ''))}</td>"
        "</tr>"
        for p in operation.get("parameters", [])
    ]
    if not rows:
        return ""
    head = "<tr><th>parameter</th><th>in</th><th></th><th>meaning</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _responses(operation: dict[str, Any]) -> str:
    items = [
        f"<li><b>{escape(str(status))}</b> {escape(answer.get('description', ''))}</li>"
        for status, answer in sorted(operation.get("responses", {}).items())
    ]
    return f"<ul>{''.join(items)}</ul>"


def docs_html(document: dict[str, Any]) -> str:
    """The page for an OpenAPI ``document``: every operation, its parameters and answers."""
    info = document.get("info", {})
    sections: dict[str, list[str]] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["other"])[0]
            body = "" if "requestBody" not in operation else "<p>JSON body (see openapi.json)</p>"
            sections.setdefault(tag, []).append(
                '<div class="op">'
                f'<div><span class="method">{escape(method)}</span>'
                f"<code>{escape(path)}</code></div>"
                f"<p>{escape(operation.get('summary', ''))}</p>"
                f"{_parameters(operation)}{body}{_responses(operation)}"
                "</div>"
            )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(info.get('version', ''))}</small>",
        "</h1>",
        f"<pre>{escape(info.get('description', ''))}</pre>",
        '<p>The machine-readable document: <a href="openapi.json">openapi.json</a>.</p>',
    ]
    for tag, operations in sections.items():
        parts.append(f"<h2>{escape(tag)}</h2>{''.join(operations)}")
    parts.append("</body></html>")
    return "".join(parts)
