"""python-tuf driven with the settings of Datadog's v2 downloader (datadog_checks_downloader,
download_v2.py), written for provenant's tests from its documented behaviour, not copied:

- trust starts from a root.json placed in a per-repository metadata directory
  (<metadata root>/<sha256 of the repository URL>/metadata/root.json, written only when absent),
  and the Updater loads it from there (bootstrap=None: that downloader passes no bootstrap bytes);
- metadata from <repository>/metadata/, targets from <repository>/targets/, hash-prefixed
  (UpdaterConfig(prefix_targets_with_hash=True));
- the pointer is the target wheelsmith/v1/<project>/<version>.json, or .../latest.json without a version;
- the pointer must be a JSON object with digest (64 lowercase hex), length (an int, not a bool, >= 0)
  and wheel_path (starting with one '/', unchanged by posixpath.normpath);
- the wheel is fetched from <repository> + wheel_path, its length then its sha256 checked, then written.

Usage: dd_v2_client.py REPOSITORY_URL ROOT_JSON METADATA_ROOT DEST PROJECT [VERSION]
Prints the wheel's path. Exit 3: no such target; 4: length or digest mismatch; 5: malformed pointer.
"""

import hashlib
import json
import posixpath
import re
import sys
import tempfile
import urllib.request
from pathlib import Path

from tuf.ngclient import Updater
from tuf.ngclient.config import UpdaterConfig

SHA256_HEX = re.compile(r'^[0-9a-f]{64}$')


def fail(code, message):
    print(message, file=sys.stderr)
    sys.exit(code)


def main():
    repository, root_json, metadata_root, dest, project, *rest = sys.argv[1:]
    version = rest[0] if rest else None
    repository = repository.rstrip('/')

    metadata_dir = Path(metadata_root) / hashlib.sha256(repository.encode()).hexdigest() / 'metadata'
    metadata_dir.mkdir(parents=True, exist_ok=True)
    if not (metadata_dir / 'root.json').exists():
        with tempfile.NamedTemporaryFile(dir=metadata_dir, prefix='.root.', suffix='.tmp', delete=False) as tmp:
            tmp.write(Path(root_json).read_bytes())
        Path(tmp.name).replace(metadata_dir / 'root.json')

    with tempfile.TemporaryDirectory() as tmp:
        updater = Updater(
            metadata_dir=str(metadata_dir),
            metadata_base_url=f'{repository}/metadata/',
            target_base_url=f'{repository}/targets/',
            target_dir=tmp,
            config=UpdaterConfig(prefix_targets_with_hash=True),
            bootstrap=None,
        )
        updater.refresh()
        target_path = f'wheelsmith/v1/{project}/{version if version is not None else "latest"}.json'
        info = updater.get_targetinfo(target_path)
        if info is None:
            fail(3, f'MISSING {target_path}')
        local = Path(tmp) / 'pointer.json'
        updater.download_target(info, str(local))
        pointer = json.loads(local.read_text(encoding='utf-8'))

    if not isinstance(pointer, dict):
        fail(5, 'MALFORMED pointer')
    for key in ('digest', 'length', 'wheel_path'):
        if key not in pointer:
            fail(5, f'MALFORMED {key}')
    if not isinstance(pointer['digest'], str) or not SHA256_HEX.match(pointer['digest']):
        fail(5, 'MALFORMED digest')
    length = pointer['length']
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        fail(5, 'MALFORMED length')
    wheel_path = pointer['wheel_path']
    if not isinstance(wheel_path, str) or not wheel_path.startswith('/') or wheel_path.startswith('//') or posixpath.normpath(wheel_path) != wheel_path:
        fail(5, 'MALFORMED wheel_path')

    with urllib.request.urlopen(repository + wheel_path, timeout=60) as resp:
        content = resp.read()
    if len(content) != length:
        fail(4, f'LENGTH MISMATCH expected {length}, got {len(content)}')
    if hashlib.sha256(content).hexdigest() != pointer['digest']:
        fail(4, f'DIGEST MISMATCH expected {pointer["digest"]}')
    out = Path(dest) / Path(wheel_path).name
    out.write_bytes(content)
    print(out)


if __name__ == '__main__':
    main()
