"""Output of ``jmedcorpus inspect``: straight to stdout, or through ``$PAGER`` (default
``less -R``, with ``LESS=FRX`` unless set, like git) once it is longer than the terminal, and
only when stdout is a terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


class Writer:
    """``write(line)`` then ``close()``. Lines are held until they fill the terminal; then the
    pager starts and gets them, and every later line, as they come."""

    def __init__(self, page: bool, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.page = page and self.stream.isatty()
        self.rows = shutil.get_terminal_size((80, 24)).lines
        self.held: list[str] = []
        self.pager: subprocess.Popen | None = None
        self.closed_early = False

    def write(self, line: str = "") -> None:
        if self.closed_early:
            return
        if not self.page:
            self._emit(self.stream, line)
            return
        if self.pager is None:
            self.held.append(line)
            if sum(line.count("\n") + 1 for line in self.held) < self.rows - 1:
                return
            self._start_pager()
            lines, self.held = self.held, []
        else:
            lines = [line]
        for held in lines:
            self._emit(self.pager.stdin, held)

    def _emit(self, stream, line: str) -> None:
        try:
            stream.write(line + "\n")
        except BrokenPipeError:  # the reader quit (less: q; | head)
            self.closed_early = True
            if stream is sys.stdout:  # no "Exception ignored" when Python flushes it at exit
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)

    def _start_pager(self) -> None:
        command = os.environ.get("PAGER") or "less -R"
        env = dict(os.environ)
        env.setdefault("LESS", "FRX")
        self.stream.flush()
        self.pager = subprocess.Popen(
            command, shell=True, stdin=subprocess.PIPE, env=env, text=True, encoding="utf-8"
        )

    def close(self) -> None:
        if self.pager is None:
            for line in self.held:
                self._emit(self.stream, line)
            self.held = []
            try:
                self.stream.flush()
            except BrokenPipeError:
                pass
            return
        try:
            self.pager.stdin.close()
        except BrokenPipeError:
            pass
        while True:
            try:
                self.pager.wait()
                break
            except KeyboardInterrupt:  # ^C belongs to the pager, as with git
                continue
