/**
 * A python-tuf (ngclient) client as a script for `python -c`: argv is the metadata directory,
 * the bootstrap root.json, the repository's base URL, the target directory and target paths.
 * Prints `<path> <downloaded file> <custom.version>` per target; exit 3 on a missing target.
 */
export const PY_TUF_CLIENT = `
import sys
from tuf.ngclient import Updater
meta_dir, root_file, base, target_dir, *paths = sys.argv[1:]
with open(root_file, "rb") as f:
    bootstrap = f.read()
u = Updater(metadata_dir=meta_dir, metadata_base_url=base + "/metadata/", target_base_url=base + "/", target_dir=target_dir, bootstrap=bootstrap)
u.refresh()
for p in paths:
    info = u.get_targetinfo(p)
    if info is None:
        print("MISSING", p); sys.exit(3)
    print(p, u.download_target(info), info.custom.get("version") if info.custom else None)
`;
