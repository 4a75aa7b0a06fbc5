"""Checking a ``--scheduler`` address before a Dask client is made for it.

Dask's client, given an address it cannot use, fails in ways that read as bugs (a
``TypeError`` for ``tls://`` without certificates or for ``ucx://`` without UCX, a
``MemoryError`` for a listener that answers with something other than Dask's protocol)
or not for a long time (it retries a refused connection until its timeout, and waits for
ever for a listener that never answers). :func:`check_scheduler` says in one line, and
within :data:`ANSWER_TIMEOUT` seconds, what is wrong with the address, or asks the
scheduler who it is over Dask's own protocol and gives back the address to connect to.

    >>> try:
    ...     check_scheduler("tcp://x:99999")
    ... except StudyError as exc:
    ...     print(exc)
    --scheduler tcp://x:99999: port 99999 is not a port number (1 to 65535); give tcp://HOST:PORT
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import os
import socket
from typing import Any

from simulation.errors import StudyError

ANSWER_TIMEOUT = 10.0
"""Seconds to connect to a scheduler and hear back from it."""
FORM = "give tcp://HOST:PORT"
_SCHEMES = ("tcp", "tls", "ws", "wss")
_DEFAULT_PORT = 8786


def _split(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an address; ``StudyError`` naming what is missing."""
    text = address.strip()
    if not text:
        raise StudyError(f"--scheduler: empty; {FORM} of a running Dask scheduler")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text  # Dask reads a bare HOST:PORT as tcp://
    scheme = scheme.lower()

    def refuse(why: str) -> StudyError:
        return StudyError(f"--scheduler {address}: {why}")

    if scheme == "ucx":
        if importlib.util.find_spec("distributed_ucxx") is None:
            raise refuse(f"ucx:// needs the distributed-ucxx package, not installed; {FORM}")
    elif scheme not in _SCHEMES:
        raise refuse(f"unknown scheme {scheme}://; {FORM} (or tls://, ws://, wss://)")
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):  # [IPv6]:PORT
        host, _, port_text = rest[1:].partition("]")
        port_text = port_text.removeprefix(":")
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host, port_text = rest, ""
    if not host:
        raise refuse(f"no host; {FORM}")
    if not port_text:
        raise refuse(f"no port; {FORM} (a Dask scheduler listens on {_DEFAULT_PORT} by default)")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise refuse(f"port {port_text} is not a port number (1 to 65535); {FORM}")
    return scheme, host, int(port_text)


def _security_args(scheme: str, address: str) -> dict[str, Any]:
    """Dask's connection arguments (TLS certificates from its configuration)."""
    from distributed.security import Security

    args = Security().get_connection_args("client")
    if scheme in ("tls", "wss") and args.get("ssl_context") is None:
        raise StudyError(
            f"--scheduler {address}: {scheme}:// needs TLS certificates, and Dask's "
            "configuration names none (distributed.comm.tls.ca-file and "
            f"distributed.comm.tls.client.cert); set them, or {FORM}"
        )
    return args


def _reach(host: str, port: int, place: str, address: str) -> None:
    """Open and close a TCP connection to ``host:port``: a refused connection or an
    unknown host is said at once, rather than retried by Dask until its timeout."""
    try:
        with socket.create_connection((host, port), timeout=ANSWER_TIMEOUT):
            pass
    except socket.gaierror as exc:
        raise StudyError(f"--scheduler {address}: unknown host {host} ({exc.strerror})") from None
    except ConnectionRefusedError:
        raise StudyError(
            f"--scheduler {address}: nothing listens at {place} (connection refused); "
            "is the scheduler running?"
        ) from None
    except TimeoutError:
        raise StudyError(
            f"--scheduler {address}: no answer from {place} within {ANSWER_TIMEOUT:g} s"
        ) from None
    except OSError as exc:
        raise StudyError(
            f"--scheduler {address}: cannot connect to {place} ({exc.strerror or exc})"
        ) from None


async def _identity(address: str, args: dict[str, Any]) -> Any:
    """What the server at ``address`` says it is, over Dask's protocol."""
    from distributed.comm import connect

    comm = await connect(address, timeout=ANSWER_TIMEOUT, **args)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _ask(address: str, args: dict[str, Any]) -> Any:
    """:func:`_identity` in a thread of its own (the caller may run an event loop), all of
    it within :data:`ANSWER_TIMEOUT`; ``TimeoutError`` if no answer came."""

    def ask() -> Any:
        return asyncio.run(asyncio.wait_for(_identity(address, args), ANSWER_TIMEOUT))

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ppsim-scheduler")
    try:
        return pool.submit(ask).result(timeout=ANSWER_TIMEOUT + 5)
    except concurrent.futures.TimeoutError:
        raise TimeoutError from None
    finally:
        pool.shutdown(wait=False)


def _in_this_process(address: str) -> str:
    """An ``inproc://HOST/PID/N`` address: usable only by this process (a scheduler a
    program started in itself, then gave to :func:`~simulation.experiments.runner.run_study`
    by way of ``open_executor``); Dask checks the rest."""
    text = address.strip()
    parts = text[len("inproc://") :].split("/")
    if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) == os.getpid():
        return text
    raise StudyError(
        f"--scheduler {address}: an inproc:// address names a scheduler inside one Python "
        f"process, which ppsim cannot reach from another; {FORM} of a running scheduler"
    )


def check_scheduler(address: str) -> str:
    """The address to give Dask's client for ``--scheduler address``, once a Dask
    scheduler answered there; else :class:`StudyError` in one line saying why not (a
    scheme Dask cannot use here, no port, nothing listening, no answer, an answer that is
    not a Dask scheduler's)."""
    if address.strip().lower().startswith("inproc://"):
        return _in_this_process(address)
    scheme, host, port = _split(address)
    place = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    url = f"{scheme}://{place}"
    args = _security_args(scheme, address)
    if scheme != "ucx":
        _reach(host, port, place, address)
    try:
        reply = _ask(url, args)
    except TimeoutError:
        raise StudyError(
            f"--scheduler {address}: {place} accepts connections but gave no Dask "
            f"answer within {ANSWER_TIMEOUT:g} s; is it a Dask scheduler's address?"
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever it sent, Dask could not read it
        # Dask's "connection closed" errors are OSErrors and say what happened; anything
        # else is Dask failing to decode a reply in another protocol
        reason = str(exc).splitlines()[0][:200] if isinstance(exc, OSError) and str(exc) else ""
        raise StudyError(
            f"--scheduler {address}: {place} does not answer as a Dask scheduler "
            f"({reason or "its reply is not Dask's protocol"})"
        ) from None
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind}" if isinstance(kind, str) else "not a Dask scheduler"
        raise StudyError(f"--scheduler {address}: {place} is {what}; give the scheduler's address")
    return url
