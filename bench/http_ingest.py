"""HTTP ingestion: events/s of ``POST /v1/events`` to ``pdl serve`` vs ``pdl emit``.

The same producer events (``bench.data.ingest_dicts``: per person, a DataCollected with
two personal values, then a ConsentGiven; natural identifiers) are submitted three ways,
each on fresh topics and a fresh data directory (so a fresh key store):

- ``emit-file``: one ``pdl emit -q FILE`` of all of them (one process, one batch);
- ``emit-batches``: one ``pdl emit -q FILE`` per batch of BATCH events, one after the
  other (a producer that hands the ledger a file per batch);
- ``http``: one ``POST /v1/events`` per batch of BATCH events (a JSON array; every batch
  stays under the 1 MiB body cap), one after the other on one keep-alive connection, to a
  ``pdl serve`` started, and answering, before the clock starts, with an ``emitter:*``
  token. The server opens its adapters on the first request, inside the clock.

On the embedded log, and on Kafka when the run has a broker. The sides run in rotating
order, ``ctx.rounds`` times; ratios are paired per round.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, Result, fmt_rate, median, rate, timed
from bench.data import ingest_dicts
from bench.scale_out import child_env

#: events per batch (per POST, per file of the per-batch emit); a quick run of fewer than
#: 2 * BATCH events uses two batches of half of them
BATCH = 500
#: ``pdl serve``'s body cap (ledger.api.gate); a batch must stay below it
BODY_CAP = 1 << 20
SIDES = ("emit-file", "emit-batches", "http")
#: seconds ``pdl serve`` may take to answer its first request
SERVE_START_S = 60.0


def _pdl(*args: str) -> list[str]:
    return [sys.executable, "-m", "ledger.cli.main", *args]


def _emit(env: dict[str, str], files: list[Path]) -> None:
    for path in files:
        done = subprocess.run(_pdl("emit", "-q", str(path)), cwd=ROOT, env=env, capture_output=True)
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"pdl emit exited {done.returncode}: {tail}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answering(port: int, server: subprocess.Popen[bytes], errors: Path) -> None:
    deadline = time.monotonic() + SERVE_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = errors.read_text("utf-8", "replace")[-2000:]
            raise RuntimeError(f"pdl serve exited {server.returncode}: {tail}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/openapi.json")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"pdl serve did not answer on port {port} within {SERVE_START_S:.0f} s")


def _http(env: dict[str, str], bodies: list[bytes], work: Path, label: str) -> float:
    """Seconds to POST ``bodies`` to a fresh ``pdl serve`` (started before the clock)."""
    token = secrets.token_hex(16)
    port = _free_port()
    errors = work / f"{label}.serve.stderr"
    with open(errors, "wb") as err:
        server = subprocess.Popen(
            _pdl("serve", "--port", str(port)),
            cwd=ROOT,
            env=dict(env, PDL_API_TOKENS=f"{token}=emitter:*"),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        _answering(port, server, errors)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post_all() -> None:
            for body in bodies:
                connection.request("POST", "/v1/events", body, headers)
                answer = connection.getresponse()
                text = answer.read()
                if answer.status != 201:
                    raise RuntimeError(f"POST /v1/events: {answer.status} {text[:2000]!r}")

        seconds = timed(post_all)[1]
        connection.close()
        return seconds
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def batch_size(count: int) -> int:
    return max(1, min(BATCH, count // 2))


def _batches(dicts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    size = batch_size(len(dicts))
    batches = [dicts[i : i + size] for i in range(0, len(dicts), size)]
    largest = max(len(json.dumps(b).encode()) for b in batches)
    if largest >= BODY_CAP:
        raise RuntimeError(f"a batch of {size} events is {largest} bytes: over the body cap")
    return batches


def _measure(ctx: Context, log_name: str, log_url: str, count: int) -> dict[str, Any]:
    """Every side on one log, ``ctx.rounds`` times; the rates and paired ratios."""
    dicts = ingest_dicts(count, ctx.run_id)
    batches = _batches(dicts)
    folder = ctx.work / f"http-ingest-{log_name}"
    folder.mkdir()
    whole = folder / "all.jsonl"
    whole.write_text("".join(json.dumps(d) + "\n" for d in dicts))
    files = []
    for n, batch in enumerate(batches):
        files.append(folder / f"batch-{n:04d}.jsonl")
        files[-1].write_text("".join(json.dumps(d) + "\n" for d in batch))
    bodies = [json.dumps(b).encode() for b in batches]
    per_s: dict[str, list[float]] = {s: [] for s in SIDES}
    for r in range(ctx.rounds):
        for side in SIDES[r % 3 :] + SIDES[: r % 3]:
            label = f"http-{log_name}-{side}-{r}"
            env = child_env(log_url, ctx.new_prefix(label), ctx.data_dir(label), None)
            if side == "emit-file":
                seconds = timed(lambda: _emit(env, [whole]))[1]  # noqa: B023
            elif side == "emit-batches":
                seconds = timed(lambda: _emit(env, files))[1]  # noqa: B023
            else:
                seconds = _http(env, bodies, folder, label)
            per_s[side].append(rate(count, seconds))
        print(
            "  http ingest ({}) round {}: pdl emit one file {:,.0f} ev/s, pdl emit per "
            "batch {:,.0f} ev/s, HTTP {:,.0f} ev/s".format(
                log_name, r + 1, *(per_s[s][-1] for s in SIDES)
            ),
            flush=True,
        )
    return {
        "events": count,
        "batch": len(batches[0]),
        "batches": len(batches),
        "largest_body_bytes": max(len(b) for b in bodies),
        "rounds": ctx.rounds,
        "per_s": per_s,
        "ratios_http_to_emit_file": [
            h / e for h, e in zip(per_s["http"], per_s["emit-file"], strict=True)
        ],
        "ratios_http_to_emit_batches": [
            h / e for h, e in zip(per_s["http"], per_s["emit-batches"], strict=True)
        ],
    }


def run(ctx: Context) -> list[Result]:
    logs = {"embedded": "embedded"}
    if ctx.kafka is not None:
        logs["kafka"] = ctx.log_url
    results: list[Result] = []
    for name, url in logs.items():
        d = _measure(ctx, name, url, ctx.sizes["http"])
        http_rate = fmt_rate(median(d["per_s"]["http"]))
        results += [
            Result(
                f"http ingest ({name}): HTTP / pdl emit one file",
                f"POST /v1/events x{d['batch']} {http_rate}",
                f"pdl emit of {d['events']:,} {fmt_rate(median(d['per_s']['emit-file']))}",
                median(d["ratios_http_to_emit_file"]),
                "(reported, no target)",
                None,
                d,
            ),
            Result(
                f"http ingest ({name}): HTTP / pdl emit per batch",
                f"POST /v1/events x{d['batch']} {http_rate}",
                f"pdl emit per {d['batch']} {fmt_rate(median(d['per_s']['emit-batches']))}",
                median(d["ratios_http_to_emit_batches"]),
                "(reported, no target)",
                None,
                {"see": "previous row"},
            ),
        ]
    return results
