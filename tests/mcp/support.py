"""Real MCP servers for the tests: the SDK server in ``mcp_server.py`` as a stdio subprocess, or
serving streamable HTTP / SSE on 127.0.0.1; and a census of threads, child processes and file
descriptors, to show that nothing outlives a closed engine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import allm
import allm.mcp

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def stdio_server(**options: object) -> allm.mcp.StdioServer:
    return allm.mcp.stdio(sys.executable, [SERVER, "stdio"], **options)  # type: ignore[arg-type]


@dataclass
class Served:
    """An HTTP MCP server process the test started."""

    process: subprocess.Popen[str]
    port: int

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def serve(kind: str) -> Served:
    process = subprocess.Popen(
        [sys.executable, SERVER, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    return Served(process, int(line.split()[1]))


def children() -> set[int]:
    """Live (not zombie) child processes of this process."""
    found = set()
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            found.add(int(entry))
    return found


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what they point at."""
    found = {}
    for entry in os.listdir("/proc/self/fd"):
        try:
            found[int(entry)] = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            continue
    return found


@dataclass
class Census:
    threads: set[int]
    children: set[int]
    fds: dict[int, str]

    @classmethod
    def take(cls) -> Census:
        return cls({t.ident or 0 for t in threading.enumerate()}, children(), open_fds())

    def leaks(self, excluded_children: set[int] = frozenset()) -> dict[str, object]:  # type: ignore[assignment]
        """What is open now and was not at the census (threads, children, fds, sockets)."""
        now = Census.take()
        threads = [t.name for t in threading.enumerate() if (t.ident or 0) not in self.threads]
        fds = {fd: target for fd, target in now.fds.items() if self.fds.get(fd) != target}
        leaks: dict[str, object] = {}
        if threads:
            leaks["threads"] = threads
        extra_children = now.children - self.children - set(excluded_children)
        if extra_children:
            leaks["children"] = extra_children
        if fds:
            leaks["fds"] = fds
        return leaks


def assert_no_leaks(census: Census, excluded_children: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Nothing the census did not see is left: waits a little for threads that are ending."""
    deadline = time.monotonic() + 10
    while True:
        leaks = census.leaks(excluded_children)
        if not leaks or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert leaks == {}, leaks
    sockets = [t for t in open_fds().values() if t.startswith("socket:")]
    assert len(sockets) <= len([t for t in census.fds.values() if t.startswith("socket:")])
