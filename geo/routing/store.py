"""On-disk cache of compiled routing indexes: ``<roads_dir>/<kode_kab>/<profile>.npz``.

Each file holds the arrays and a JSON ``meta`` entry with the cache key: the SHA-256 of the
source file, the profile's fingerprint and the format version. :func:`build_networks` rebuilds an
index when any of them changed and reuses it otherwise. Files are written to a temporary name in
the same folder and renamed, so a reader never sees a half-written index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from geo.exceptions import NoRoadNetworkError, RoadNetworkError
from geo.routing.index import DEFAULT_MAX_SNAP_M, RoutingIndex
from geo.routing.profiles import VehicleProfile, get_profile, load_profiles
from geo.timestamp import iso_utc

FORMAT_VERSION = 1
_KODE_KAB = re.compile(r"^\d{2}\.\d{2}$")


def _check_kode(kode_kab: str) -> str:
    if not _KODE_KAB.match(kode_kab or ""):
        raise RoadNetworkError(
            f"kode wilayah {kode_kab!r} tidak valid (contoh 34.71) / invalid regency code "
            f"{kode_kab!r} (expected NN.NN, e.g. 34.71)"
        )
    return kode_kab


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(source_sha256: str, profile: VehicleProfile) -> str:
    """The key an index is stored under: source bytes + profile settings + format version."""
    text = f"{FORMAT_VERSION}:{source_sha256}:{profile.fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


def index_path(roads_dir: Path, kode_kab: str, profile: str) -> Path:
    return Path(roads_dir) / kode_kab / f"{profile}.npz"


def read_meta(path: Path) -> dict[str, Any] | None:
    """The ``meta`` entry of a stored index, or ``None`` if the file is absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError):
        return None


def _write_atomic(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class BuiltIndex:
    """What happened to one (region, profile) index during a build."""

    profile: str
    path: Path
    reused: bool
    nodes: int
    edges: int
    seconds: float


@dataclass(frozen=True)
class BuildReport:
    """Result of :func:`build_networks`."""

    region: str
    source: Path
    source_sha256: str
    indexes: list[BuiltIndex] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "source": str(self.source),
            "source_sha256": self.source_sha256,
            "indexes": [
                {
                    "profile": i.profile,
                    "path": str(i.path),
                    "reused": i.reused,
                    "nodes": i.nodes,
                    "edges": i.edges,
                    "seconds": round(i.seconds, 3),
                }
                for i in self.indexes
            ],
        }


def build_networks(
    source: Path,
    kode_kab: str,
    roads_dir: Path,
    *,
    profiles: Mapping[str, VehicleProfile] | None = None,
    only: Iterable[str] | None = None,
    simplify: bool = True,
) -> BuildReport:
    """Build (or reuse) the routing index of ``kode_kab`` for every profile (or ``only`` those).

    The roads file is parsed at most once, and only if some index is missing or stale.

    Raises
    ------
    RoadNetworkError
        Unreadable file, no drivable highways, or no road usable by a profile.
    UnknownProfileError
        A name in ``only`` is not a profile.
    """
    from geo.routing.build import compile_graph, read_graph

    source = Path(source)
    _check_kode(kode_kab)
    if not source.is_file():
        raise RoadNetworkError(f"roads file not found: {source}")
    profiles = profiles if profiles is not None else load_profiles()
    chosen = [get_profile(profiles, name) for name in (only or profiles)]
    sha = file_sha256(source)
    report = BuildReport(region=kode_kab, source=source, source_sha256=sha)
    graph = None
    for profile in chosen:
        started = time.perf_counter()
        path = index_path(roads_dir, kode_kab, profile.name)
        key = cache_key(sha, profile) + ("" if simplify else ":raw")
        meta = read_meta(path)
        if meta is not None and meta.get("cache_key") == key:
            report.indexes.append(
                BuiltIndex(
                    profile.name,
                    path,
                    True,
                    int(meta["nodes"]),
                    int(meta["edges"]),
                    time.perf_counter() - started,
                )
            )
            continue
        if graph is None:
            graph = read_graph(source, simplify=simplify)
        arrays = compile_graph(graph, profile)
        new_meta: dict[str, Any] = {
            "cache_key": key,
            "format_version": FORMAT_VERSION,
            "region": kode_kab,
            "profile": profile.name,
            "profile_fingerprint": profile.fingerprint(),
            "label_id": profile.label_id,
            "label_en": profile.label_en,
            "offroad_speed_kmh": profile.offroad_speed_kmh,
            "source": str(source),
            "source_sha256": sha,
            "simplified": simplify,
            "nodes": int(len(arrays["node_lon"])),
            "edges": int(len(arrays["edge_u"])),
            "built_at": iso_utc(datetime.now(UTC)),
        }
        _write_atomic(path, arrays, new_meta)
        report.indexes.append(
            BuiltIndex(
                profile.name,
                path,
                False,
                len(arrays["node_lon"]),
                len(arrays["edge_u"]),
                time.perf_counter() - started,
            )
        )
    return report


_LISTING_KEYS = (
    "region", "profile", "label_id", "label_en", "nodes", "edges", "source_sha256", "built_at",
)
_FILE_KEYS = ("source", "bytes", "path")


class RoadNetworks:
    """The routing indexes available under ``roads_dir``, loaded on first use and kept in memory.

    Thread-safe; an index file replaced on disk (rebuild) is reloaded on the next :meth:`get`.
    """

    def __init__(
        self,
        roads_dir: Path,
        profiles: Mapping[str, VehicleProfile] | None = None,
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
    ) -> None:
        self.roads_dir = Path(roads_dir)
        self.profiles = dict(profiles) if profiles is not None else load_profiles()
        self.max_snap_m = max_snap_m
        self._loaded: dict[tuple[str, str], tuple[float, RoutingIndex]] = {}
        self._lock = threading.Lock()

    def get(self, kode_kab: str, profile: str) -> RoutingIndex:
        """The index of a region and profile.

        Raises
        ------
        UnknownProfileError
            ``profile`` is not a known vehicle profile.
        NoRoadNetworkError
            No index was built for that region and profile.
        """
        get_profile(self.profiles, profile)
        if not _KODE_KAB.match(kode_kab or ""):
            raise NoRoadNetworkError(
                f"kode wilayah {kode_kab!r} tidak valid / invalid regency code {kode_kab!r} "
                "(expected NN.NN, e.g. 34.71)"
            )
        path = index_path(self.roads_dir, kode_kab, profile)
        try:
            mtime = path.stat().st_mtime
        except (OSError, ValueError):
            raise NoRoadNetworkError(
                f"jaringan jalan wilayah {kode_kab!r} untuk profil {profile!r} belum dibangun "
                f"(siaga roads import) / no road network for region {kode_kab!r} and profile "
                f"{profile!r}; run `siaga roads import`"
            ) from None
        with self._lock:
            cached = self._loaded.get((kode_kab, profile))
            if cached is not None and cached[0] == mtime:
                return cached[1]
            index = RoutingIndex.load(path, max_snap_m=self.max_snap_m)
            self._loaded[(kode_kab, profile)] = (mtime, index)
            return index

    def has(self, kode_kab: str, profile: str) -> bool:
        """Whether an index exists for that region and (known) profile."""
        return (
            profile in self.profiles
            and bool(_KODE_KAB.match(kode_kab or ""))
            and index_path(self.roads_dir, kode_kab, profile).is_file()
        )

    def regions(self) -> list[str]:
        """Region codes with at least one built index."""
        if not self.roads_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.roads_dir.iterdir()
            if p.is_dir() and _KODE_KAB.match(p.name) and any(p.glob("*.npz"))
        )

    def listing(self, *, with_files: bool = False) -> list[dict[str, Any]]:
        """One summary per stored index, as shown to users: region, profile, labels, size,
        source hash and build time; ``with_files`` adds the server's file paths and sizes
        (for operators, never over HTTP)."""
        keys = _LISTING_KEYS + (_FILE_KEYS if with_files else ())
        return [{k: meta.get(k) for k in keys} for meta in self.available()]

    def available(self) -> list[dict[str, Any]]:
        """One entry (meta) per stored index, for listings."""
        out = []
        for region in self.regions():
            for path in sorted((self.roads_dir / region).glob("*.npz")):
                meta = read_meta(path)
                if meta is not None:
                    out.append({**meta, "path": str(path), "bytes": path.stat().st_size})
        return out
