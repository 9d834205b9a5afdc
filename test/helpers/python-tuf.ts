/**
 * python-tuf's ngclient as an independent TUF client: starting from the root file given (only
 * that one), it refreshes from `base`, downloads each target path by its consistent name and
 * prints `<path> <file> <custom.version>` per target, then `root <version>` (the root it walked to). Exits 3 on a
 * target it cannot find. Arguments: meta_dir root_file base target_dir paths…
 */
export const PY_TUF_CLIENT = `
import json, os, sys
from tuf.ngclient import Updater
meta_dir, root_file, base, target_dir, *paths = sys.argv[1:]
u = Updater(metadata_dir=meta_dir, metadata_base_url=base + "/metadata/", target_base_url=base + "/", target_dir=target_dir, bootstrap=open(root_file, "rb").read())
u.refresh()
for p in paths:
    info = u.get_targetinfo(p)
    if info is None:
        print("MISSING", p); sys.exit(3)
    print(p, u.download_target(info), info.custom.get("version") if info.custom else None)
print("root", json.load(open(os.path.join(meta_dir, "root.json")))["signed"]["version"])
`;
