"""Real SPARQL servers on 127.0.0.1 for the push and ``--sparql`` tests.

* Oxigraph's own server: the ``oxigraph`` binary of the PyPI package ``oxigraph``
  (``oxigraph serve --location DIR --bind 127.0.0.1:PORT``): query ``/query``, update
  ``/update``, Graph Store Protocol ``/store``.
* OpenLink Virtuoso 7 (Debian ``virtuoso-opensource``): ``virtuoso-t`` with a generated
  ``virtuoso.ini`` on ephemeral ports in a temporary directory; a fresh database has the
  ``dba``/``dba`` account, which writes through ``/sparql-auth`` and
  ``/sparql-graph-crud-auth`` (HTTP Digest).

Run ``python tests/sparql_servers.py oxigraph|virtuoso`` to start one by hand.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from conftest import free_port


@dataclass
class Server:
    name: str
    endpoint: str  # the SPARQL query endpoint (what --endpoint / --sparql take)
    process: subprocess.Popen
    auth: str | None = None
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def oxigraph_binary() -> str | None:
    """The server binary of PyPI's ``oxigraph`` (next to this Python's scripts, or on PATH)."""
    candidate = Path(sysconfig.get_path("scripts")) / "oxigraph"
    if candidate.is_file():
        return str(candidate)
    candidate = Path(sys.executable).parent / "oxigraph"
    return str(candidate) if candidate.is_file() else shutil.which("oxigraph")


def virtuoso_binary() -> str | None:
    return shutil.which("virtuoso-t")


def _wait(url: str, process: subprocess.Popen, seconds: float, log: Path | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:] if log and log.exists() else ''}")
        try:
            if httpx.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server at {url} not ready after {seconds} s: {log.read_text()[-2000:] if log and log.exists() else ''}")


def start_oxigraph(directory: Path) -> Server:
    binary = oxigraph_binary()
    if binary is None:
        raise FileNotFoundError("no 'oxigraph' server binary (pip install oxigraph)")
    port = free_port()
    log = directory / "oxigraph.log"
    process = subprocess.Popen(
        [binary, "serve", "--location", str(directory / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}/query"
    _wait(endpoint, process, 30, log)
    return Server("oxigraph", endpoint, process, log=log)


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {d}/virtuoso.db
ErrorLogFile       = {d}/virtuoso.log
LockFile           = {d}/virtuoso.lck
TransactionFile    = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {d}/virtuoso-temp.db
TransactionFile    = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
DisableUnixSocket        = 1
MaxClientConnections     = 8
CheckpointInterval       = 0
CaseMode                 = 2
DirsAllowed              = ., {d}
NumberOfBuffers          = 20000
MaxDirtyBuffers          = 15000
ThreadsPerQuery          = 2
MaxQueryMem              = 500M

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = /var/lib/virtuoso-opensource-7/vsp
MaxClientConnections        = 8
ServerThreads               = 8
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
MaxKeepAlives               = 8
KeepAliveTimeout            = 10
Charset                     = UTF-8
EnabledGzipContent          = 0

[SPARQL]
ResultSetMaxRows           = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime      = 120
DefaultGraph               =
"""


def start_virtuoso(directory: Path) -> Server:
    binary = virtuoso_binary()
    if binary is None:
        raise FileNotFoundError("no 'virtuoso-t' (apt-get install virtuoso-opensource)")
    directory.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    (directory / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=directory, http_port=http_port, sql_port=sql_port))
    log = directory / "virtuoso.log"
    process = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(directory / "virtuoso.ini")],
        cwd=directory, stdout=open(directory / "virtuoso.out", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{http_port}/sparql"
    _wait(endpoint, process, 90, log)
    return Server("virtuoso", endpoint, process, auth="dba:dba", log=log, extra={"sql_port": sql_port})


START = {"oxigraph": start_oxigraph, "virtuoso": start_virtuoso}


if __name__ == "__main__":
    import tempfile

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server too
    server = START[sys.argv[1]](Path(tempfile.mkdtemp(prefix=f"hkg-{sys.argv[1]}-")))
    print(server.endpoint, server.auth or "", flush=True)
    try:
        signal.pause()
    finally:
        server.stop()
        os._exit(0)
