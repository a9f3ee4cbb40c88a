"""``pdl serve``: the reports and the metrics over HTTP, behind tokens with roles."""

from __future__ import annotations

import argparse

from ledger.cli.common import Subparsers, add_command, say, settings_of
from ledger.errors import ConfigError, InvalidRequest

DESCRIPTION = """\
Serve the reports of `pdl report` (same code, same bytes) and the Prometheus metrics
over HTTP, with an OpenAPI document at /openapi.json and its pages at /docs. Binds to
127.0.0.1 unless told otherwise; put a TLS proxy in front before binding elsewhere.

Clients send `Authorization: Bearer <token>`. Tokens and their roles come from
PDL_API_TOKENS ("token=role,token=role") and/or the file PDL_API_TOKENS_FILE (the same
entries, one or more per line, # for comments); tokens are at least 16 characters and
are compared in constant time, and never logged. Roles: dpo (every report, personal
fields decrypted; metrics), regulator (every report, personal fields [withheld]), ops
(/metrics only). No or an unknown token: 401, answered before any body is read; a body
over 1 MiB: 413; more than 10 failed authentications a minute from one address: 429; a
role that may not: 403; a malformed request: 422 naming the field and the reason, never
the value. /docs is a page without script or CDN; every answer says no-store, nosniff
and a Content-Security-Policy that allows no script.

Endpoints: /reports/ropa, /reports/access/{subject}, /reports/basis/{purpose},
/reports/consent/{purpose}, /reports/erasure, /reports/retention, /reports/transfers,
/reports/{kind}; query parameters at, known_at, format (json, csv, html), controller,
subject. POST /subjects/lookup {"identifier": ...} gives a dpo the subject id of an
e-mail or customer number (kept out of URLs, which end up in access logs)."""

EXAMPLES = """\
  PDL_API_TOKENS="$(cat dpo.token)=dpo,$(cat cnil.token)=regulator" pdl serve
  PDL_API_TOKENS_FILE=/etc/pdl/tokens pdl serve --port 8443
  curl -H "Authorization: Bearer $TOKEN" \\
       'http://127.0.0.1:8080/reports/ropa?controller=informatique70&format=html'"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "serve",
        run,
        "serve the reports and metrics over HTTP (OpenAPI)",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ledger.api.app import create_app
    from ledger.api.auth import TokenConfigError, load_tokens

    settings = settings_of(args)
    try:
        tokens = load_tokens(settings.api_tokens, settings.api_tokens_file)
    except TokenConfigError as exc:
        raise ConfigError(f"pdl serve: {exc}") from None
    if not tokens.entries:
        raise ConfigError(
            "pdl serve: no API tokens configured — fix: set PDL_API_TOKENS=token=role,... "
            "or PDL_API_TOKENS_FILE (see pdl serve --help)"
        )
    if not 0 < args.port < 65536:
        raise InvalidRequest(f"pdl serve: --port {args.port} is not a port number", field="--port")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        say(f"pdl serve: listening on {args.host}, not only this host: use TLS in front")
    say(f"pdl serve: http://{args.host}:{args.port}/docs ({len(tokens.entries)} token(s))")
    uvicorn.run(
        create_app(settings, tokens),
        host=args.host,
        port=args.port,
        log_level="info",
        server_header=False,  # no software version for a scanner to match
    )
    return 0
