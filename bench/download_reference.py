"""The reference downloader's shape, for the download benchmark: python-tuf's ngclient
Updater from a trusted root, the pointer target through TUF, then the wheel and the
attestation checked by length and sha256 with hashlib (no DSSE signature, no policy: the
reference mocks those). Loops in one process so interpreter start-up is not timed; like the
provenant side, one untimed download first (imports, caches, and the warm state) unless
WARMUP is 0, which the per-process benchmark uses (one download per interpreter).

usage: download_reference.py REPO_URL ROOT_JSON TARGET_PATH ITERATIONS cold|warm WORKDIR [WARMUP]
cold: metadata reset to root.json before every download; warm: kept (made from root.json if absent).
prints one JSON line: {"elapsed": seconds, "iterations": n, "maxrss_kb": peak RSS}
"""
import hashlib
import json
import os
import resource
import shutil
import sys
import time
import urllib.request

from tuf.ngclient import Updater


def parse_pointer(text):
    """The pointer's flat YAML (two levels): enough for the reference's shape, no PyYAML needed."""
    out, section = {}, None
    for line in text.splitlines():
        if not line.strip() or line.strip() == "pointer:":
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip().strip('"').strip("'")
        indent = len(line) - len(line.lstrip())
        if indent <= 2:
            section = key if value == "" else None
            if value != "":
                out[key] = value
        elif section:
            out.setdefault(section, {})[key] = value
    return out


def fetch_checked(url, length, digest, dest):
    h = hashlib.sha256()
    got = 0
    with urllib.request.urlopen(url) as r, open(dest, "wb") as f:
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            got += len(chunk)
            if got > length:
                raise ValueError("too long")
            h.update(chunk)
            f.write(chunk)
    if got != length or h.hexdigest() != digest:
        raise ValueError("length or digest mismatch")


def peak_rss_kib():
    """VmHWM: getrusage's maxrss survives exec on Linux and would report the parent's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    repo, root, target_path, n, mode, work = sys.argv[1:7]
    n = int(n)
    warmup = len(sys.argv) < 8 or sys.argv[7] != "0"
    metadata_dir = os.path.join(work, "metadata")
    if warmup:
        download(repo, root, target_path, mode, work, metadata_dir, -1)
    start = time.perf_counter()
    for i in range(n):
        download(repo, root, target_path, mode, work, metadata_dir, i)
    elapsed = time.perf_counter() - start
    print(json.dumps({"elapsed": elapsed, "iterations": n, "maxrss_kb": peak_rss_kib()}))


def download(repo, root, target_path, mode, work, metadata_dir, i):
    if mode == "cold" or not os.path.exists(os.path.join(metadata_dir, "root.json")):
        shutil.rmtree(metadata_dir, ignore_errors=True)
        os.makedirs(metadata_dir)
        shutil.copy(root, os.path.join(metadata_dir, "root.json"))
    # bootstrap=None: trust the root.json in metadata_dir (copied from the given root when cold).
    targets_dir = os.path.join(work, f"targets-{i}")
    os.makedirs(targets_dir, exist_ok=True)
    updater = Updater(metadata_dir=metadata_dir, metadata_base_url=repo + "metadata/", target_base_url=repo, target_dir=targets_dir, bootstrap=None)
    updater.refresh()
    info = updater.get_targetinfo(target_path)
    if info is None:
        raise SystemExit(f"{target_path} not found")
    pointer_file = updater.download_target(info)
    with open(pointer_file) as f:
        p = parse_pointer(f.read())
    wheel = os.path.join(targets_dir, p["uri"].rsplit("/", 1)[-1])
    fetch_checked(repo + p["uri"], int(p["length"]), p["digest"], wheel)
    a = p["attestation"]
    fetch_checked(repo + a["uri"], int(a["length"]), a["digest"], wheel + ".attestation")
    shutil.rmtree(targets_dir)


if __name__ == "__main__":
    main()
