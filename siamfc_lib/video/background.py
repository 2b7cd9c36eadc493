"""Work beside the tracker on threads: frames decoded ahead, annotated frames drawn and encoded behind.

Threads, not processes: FFmpeg (through PyAV) decodes and encodes with the GIL released, and
so do OpenCV's drawing and torch's network, so the three overlap on separate cores without
copying 6 MB frames between processes. Both queues are bounded (``depth`` frames), which is
what keeps memory flat over an hour of video. An exception on either thread is raised again
in the caller at its next call, with the thread's own traceback as the cause.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")
_END = object()


class ReadAhead(Generic[T]):
    """Iterate ``source`` on a thread, ``depth`` items ahead; ``close()`` stops it early."""

    def __init__(self, source: Iterator[T], depth: int = 8, name: str = "read-ahead"):
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(source,), name=name, daemon=True)
        self.thread.start()

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(exc)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> "ReadAhead[T]":
        return self

    def __next__(self) -> T:
        item = self.queue.get()
        if item is _END:
            self.queue.put(_END)           # later calls end too
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.stop.set()
        while self.thread.is_alive():
            try:
                self.queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self.thread.join()


class WriteBehind:
    """Call ``consume(item)`` on a thread for every ``put(item)``, at most ``depth`` behind."""

    def __init__(self, consume: Callable[[object], None], depth: int = 8, name: str = "write-behind"):
        self.consume = consume
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if self.error is None:
                try:
                    self.consume(item)
                except BaseException as exc:  # noqa: BLE001 - handed to the producer
                    self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"{self.thread.name} failed: {self.error}") from self.error

    def put(self, item) -> None:
        self._raise()
        self.queue.put(item)

    def finish(self) -> None:
        """Wait until every item is consumed; raises what the thread raised."""
        self.queue.put(_END)
        self.thread.join()
        self._raise()

    def abort(self) -> None:
        """Drop what is queued and stop (after an error or an interrupt)."""
        self.error = self.error or RuntimeError("aborted")
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.queue.put(_END)
        self.thread.join()
