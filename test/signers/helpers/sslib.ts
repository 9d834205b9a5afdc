import type { Signer } from '../../../src/signers/signer.ts';
import { python } from '../../helpers/peers.ts';

// securesystemslib is what python-tuf reads key objects and verifies metadata signatures with.
const PY_CHECK = `
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey, Signature
req = json.loads(sys.argv[1])
ids = []
for k in req:
    key = SSlibKey.from_dict(k["keyid"], dict(k["public"]))
    key.verify_signature(Signature(k["keyid"], k["sig"]), bytes.fromhex(k["data"]))
    ids.append(hashlib.sha256(encode_canonical(k["public"]).encode()).hexdigest())
print(json.dumps(ids))
`;

/**
 * Signs `data` with each signer and has securesystemslib verify every signature against the
 * signer's TUF key object; returns the key ids securesystemslib computes (TUF spec §4.2).
 */
export async function sslibKeyIds(signers: readonly Signer[], data: Uint8Array): Promise<string[]> {
  const req = [];
  for (const s of signers) req.push({ keyid: s.keyId, public: s.publicKey, data: Buffer.from(data).toString('hex'), sig: Buffer.from(await s.sign(data)).toString('hex') });
  const { stdout } = await python(['-c', PY_CHECK, JSON.stringify(req)]);
  return JSON.parse(stdout) as string[];
}
