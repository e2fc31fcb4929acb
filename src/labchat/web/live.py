"""Keep a running server's index in step with its corpus folder: watch it, update the index, swap it in.

`labchat serve` starts a `LiveIndex`. It watches the corpus folder and the index's manifest with
`watchfiles`, which batches a burst of changes (an editor's save, a `git pull`) into one. A changed file is
read only once its size and modification time hold still (`settle`), so a file still being copied is not
indexed half-written; were it read early all the same, its last write starts another update. The update
is `index.build_index` (only changed files are embedded; its lock keeps a `labchat index` in another
process from colliding), then a new `Finder` over the new index, with the embedder and fitted models
already loaded, assigned to `pipeline.finder` in one step: answers in flight finish on the old index and
the next question uses the new one. An index rebuilt by another process is noticed by its manifest and
swapped in the same way; in a database (`--store`), by its build id, read every second. A server on a
database indexes its folder's changes, never its folder as a whole at start: the database is shared, and
another machine's `labchat index --store` keeps it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType

from labchat.errors import LabchatError
from labchat.find import Finder
from labchat.index import build_index, load_index, staleness
from labchat.pipeline import Pipeline
from labchat.settings import Settings
from labchat.store import build_id
from labchat.store.local import MANIFEST
from labchat.web.library import PARTIAL

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.4
"""How long a changed file's size and modification time must hold still before it is read. Short, so an
edit is answered from within about a second (benchmarks/scale.py); a copy that stalls for longer is read
early, and its next write starts another update."""
SETTLE_LIMIT = 60.0
"""Longest wait for a file to settle; a file written for longer is read as it is, and again later."""


class LiveIndex:
    """Watches `settings.corpus_dir` in a thread and keeps `pipeline.finder` on the newest index.

    Use it as a context manager (the watcher stops when the block ends), or call `refresh` to update now.
    `status` is one line saying what the last update changed, for the page; `notify` is told it too.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline,
                 notify: Callable[[str], None] = log.info) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.notify = notify
        self.status = ""
        self.updated = 0.0
        """When `status` was last set (seconds since the epoch)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watched = (settings.corpus_dir.resolve(),
                         *([] if settings.store else [settings.index_dir.resolve()]))

    def __enter__(self) -> LiveIndex:
        # Watched before any build made it; a server on a database may have no corpus folder yet.
        for folder in self._watched:
            folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._watch, name="labchat-live", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def refresh(self, progress: bool = False, build: bool = True) -> None:
        """Update the index if the corpus changed (unless not to `build`), and put the newest index in
        service.

        One update at a time: a caller arriving during another's update waits for it, then usually finds
        nothing left to do. LabchatError when the index cannot be updated now (another process is
        building it: its manifest, once written, is taken up in turn); `status` says so too.
        """
        with self._lock:
            settings, old = self.settings, self.pipeline.finder
            try:
                if build and staleness(settings):
                    build_index(settings, old.embedder, progress=progress)
                if build_id(settings) == old.index.manifest.get("build"):
                    return  # e.g. woken by the manifest its own build wrote: nothing to load again
                index = load_index(settings, old.embedder.dim, previous=old.index)
            except LabchatError as err:
                self._say(f"Index not updated: {err}")
                raise
            if index.manifest.get("build") != old.index.manifest.get("build"):
                self.pipeline.finder = Finder(settings, models=old.picker.models, embedder=old.embedder,
                                              index=index)
                self._say(describe(old.index.manifest, index.manifest))

    def _say(self, status: str) -> None:
        self.status, self.updated = status, time.time()
        self.notify(status)

    def _watch(self) -> None:
        from watchfiles import watch

        corpus = self._watched[0]
        started = False
        # With yield_on_timeout the first (maybe empty) batch comes once the watch is in place: the update
        # made then covers what changed while the server was starting, and later changes are events. An
        # empty batch comes every second: a database's build id is read then.
        for changes in watch(*self._watched, watch_filter=self._relevant, stop_event=self._stop,
                             raise_interrupt=False, yield_on_timeout=True, rust_timeout=1000):
            first, started = not started, True
            if changes:
                written = [Path(p) for _, p in changes if Path(p).is_relative_to(corpus)]
                if not settle(written, self._stop):
                    return
                self._update()
            elif first or self._database_moved():
                self._update(build=not self.settings.store)

    def _database_moved(self) -> bool:
        """Whether another process changed the database the index is in."""
        if not self.settings.store:
            return False
        try:
            return build_id(self.settings) != self.pipeline.finder.index.manifest.get("build")
        except LabchatError:  # unreachable for now: the next second tries again
            return False

    def _update(self, build: bool = True) -> None:
        try:
            self.refresh(build=build)
        except LabchatError:  # already said in `status` and to `notify`
            pass
        except Exception:  # the watcher outlives any one failed update; the next change retries
            log.exception("updating the index failed")

    def _relevant(self, _change: object, path: str) -> bool:
        """Corpus files but uploads still being written; of the index folder, only its manifest."""
        corpus, *index = self._watched
        changed = Path(path)
        if index and changed.is_relative_to(index[0]) and not changed.is_relative_to(corpus):
            return changed == index[0] / MANIFEST
        return not changed.name.endswith(PARTIAL)


def settle(paths: Collection[Path], stop: threading.Event,
           quiet: float = SETTLE_SECONDS, limit: float = SETTLE_LIMIT) -> bool:
    """Wait until none of `paths` changed size or modification time for `quiet` seconds (at most `limit`
    seconds in all); False if `stop` was set meanwhile. A file that vanished counts as still."""
    def state() -> list[tuple[int, int] | None]:
        return [_stat(p) for p in paths]

    deadline = time.monotonic() + limit
    before = state()
    while not stop.wait(quiet):
        now = state()
        if now == before or time.monotonic() > deadline:
            return True
        before = now
    return False


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def describe(old: dict, new: dict) -> str:
    """One line saying what changed between two manifests: "Index updated: 1 file added, 1 removed",
    and the files newly skipped, with the reason."""
    before, after = old.get("files", {}), new.get("files", {})
    counts = {"added": len(after.keys() - before.keys()),
              "changed": sum(before[p] != after[p] for p in before.keys() & after.keys()),
              "removed": len(before.keys() - after.keys())}
    said = [f"{n} {what}" for what, n in counts.items() if n]
    if said:
        first = next(n for n in counts.values() if n)
        said[0] = said[0].replace(" ", " file " if first == 1 else " files ", 1)
    line = f"Index updated: {', '.join(said)}" if said else "Index up to date: no file changed"
    skipped_before, skipped = old.get("skipped", {}), new.get("skipped", {})
    newly = [p for p, entry in skipped.items() if skipped_before.get(p) != entry]
    if newly:
        line += "; skipped " + "; ".join(f"{p} ({skipped[p]['reason']})" for p in newly[:3])
        line += f" and {len(newly) - 3} more" if len(newly) > 3 else ""
    return line

