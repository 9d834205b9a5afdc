"""The peer of bench/publish-scale.ts: python-tuf's repository API (tuf.api.metadata) making the
same update as one provenant publish into the same repository (a copy of it), one release at a
time: read and verify timestamp, snapshot, targets and the release's bin against the root; write
the release's objects; add the pointer to its bin, re-sign the bin, the snapshot and the
timestamp with the online key; write them (consistent snapshots: versioned files, then
timestamp.json). Interpreter start-up and imports are not timed.

usage: publish_reference.py REPO_DIR ONLINE_KEY_PEM ONLINE_KEYID RUNS
prints one JSON line: {"ms": [wall per publish], "cpu_ms": [...], "files": metadata files written per publish, "bytes": ...}
"""
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import MetaFile, Metadata, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

COMPACT = JSONSerializer(compact=True)


def read(path, cls):
    with open(path, "rb") as f:
        return Metadata[cls].from_bytes(f.read())


def write_durable(path, data, create_only=True):
    """As provenant writes: in full under another name, fsync, into place, fsync the directory
    (a writer that skips this can lose a commit on power loss, which would make it faster)."""
    if create_only and os.path.exists(path):
        raise SystemExit(f"{path} exists")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_one(repo, signer, i, counts):
    meta = os.path.join(repo, "metadata")
    root_version = max(int(n.split(".")[0]) for n in os.listdir(meta) if n.endswith(".root.json"))
    root = read(os.path.join(meta, f"{root_version}.root.json"), Root)
    ts = read(os.path.join(meta, "timestamp.json"), Timestamp)
    root.verify_delegate(Timestamp.type, ts)
    sv = ts.signed.snapshot_meta.version
    snap = read(os.path.join(meta, f"{sv}.snapshot.json"), Snapshot)
    root.verify_delegate(Snapshot.type, snap)
    tv = snap.signed.meta["targets.json"].version
    targets = read(os.path.join(meta, f"{tv}.targets.json"), Targets)
    root.verify_delegate(Targets.type, targets)

    project, version = "datadog-pybench", f"9.{i}.0"
    wheel_name = f"datadog_pybench-{version}-py3-none-any.whl"
    objects = {
        f"simple/{project}/{wheel_name}": f"synthetic wheel {project} {version}\n".encode(),
        f"simple/{project}/{wheel_name}.metadata": f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n".encode(),
        f"attestations/{project}/{project}-{version}.sigstore.json": json.dumps({"synthetic": True, "version": version}).encode(),
    }
    pointer = f"pointer:\n  name: {project}\n  version: {version}\n".encode()
    target_path = f"pointers/{project}/{project}-{version}.pointer"
    digest = hashlib.sha256(pointer).hexdigest()
    objects[f"pointers/{project}/{digest}.{project}-{version}.pointer"] = pointer
    for key, data in objects.items():
        os.makedirs(os.path.dirname(os.path.join(repo, key)), exist_ok=True)
        write_durable(os.path.join(repo, key), data)

    bin_name = targets.signed.delegations.succinct_roles.get_role_for_target(target_path)
    bv = snap.signed.meta[f"{bin_name}.json"].version
    bin_md = read(os.path.join(meta, f"{bv}.{bin_name}.json"), Targets)
    targets.verify_delegate(bin_name, bin_md)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    bin_md.signed.targets[target_path] = TargetFile.from_data(target_path, pointer, ["sha256"])
    resign(bin_md, bv + 1, now + timedelta(days=30), signer, os.path.join(meta, f"{bv + 1}.{bin_name}.json"), counts)
    snap.signed.meta[f"{bin_name}.json"] = MetaFile(version=bv + 1)
    sdata = resign(snap, sv + 1, now + timedelta(days=7), signer, os.path.join(meta, f"{sv + 1}.snapshot.json"), counts)
    ts.signed.snapshot_meta = MetaFile(version=sv + 1, length=len(sdata), hashes={"sha256": hashlib.sha256(sdata).hexdigest()})
    resign(ts, ts.signed.version + 1, now + timedelta(days=1), signer, os.path.join(meta, "timestamp.json"), counts, create_only=False)


def resign(md, version, expires, signer, path, counts, create_only=True):
    """The next version of `md`, signed by `signer` alone and written durably; returns its bytes."""
    md.signed.version = version
    md.signed.expires = expires
    md.signatures.clear()
    md.sign(signer)
    data = md.to_bytes(COMPACT)
    write_durable(path, data, create_only)
    counts["files"] += 1
    counts["bytes"] += len(data)
    return data

def main():
    repo, key_pem, keyid, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    meta = os.path.join(repo, "metadata")
    root = read(os.path.join(meta, "1.root.json"), Root)
    with open(key_pem, "rb") as f:
        private = load_pem_private_key(f.read(), None)
    signer = CryptoSigner(private, root.signed.keys[keyid])
    counts = {"files": 0, "bytes": 0}
    times, cpu = [], []
    for i in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        publish_one(repo, signer, i, counts)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"ms": times, "cpu_ms": cpu, "files": counts["files"] / runs, "bytes": counts["bytes"] / runs}))


if __name__ == "__main__":
    main()
