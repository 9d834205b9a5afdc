import { MetaFile, Snapshot, TargetFile, Targets } from '@tufjs/models';

/**
 * @tufjs/models 5 builds the snapshot's `meta` and a targets role's `targets` maps with
 * `reduce((acc, x) => ({ ...acc, [k]: v }))`: quadratic in the entries. With 256 hashed bins
 * that is milliseconds per parse and per signature check, several times per download. These
 * replacements build the same objects in one pass (same keys, same values, same errors);
 * canonical JSON sorts keys, so signatures are unaffected. Applied once, on import.
 */
type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Object.fromEntries defines own properties, as the library's spread does: a plain assignment
// would let a `__proto__` entry set the map's prototype and drop out of the signed bytes.
function mapValues<T>(o: Record<string, T>, f: (k: string, v: T) => unknown): Json {
  return Object.fromEntries(Object.keys(o).map((k) => [k, f(k, o[k]!)]));
}

interface Patchable {
  __provenantLinear?: boolean;
}

const snapshotCtor = Snapshot as unknown as Patchable & { fromJSON(d: Json): Snapshot };
if (!snapshotCtor.__provenantLinear) {
  snapshotCtor.__provenantLinear = true;
  const original = snapshotCtor.fromJSON.bind(Snapshot);
  snapshotCtor.fromJSON = (data: Json) => {
    const { meta, ...rest } = data;
    if (meta === undefined) return original(data);
    if (!isRecord(meta)) throw new TypeError('meta field is malformed');
    const snap = original({ ...rest, meta: {} });
    (snap as { meta: Record<string, MetaFile> }).meta = mapValues(meta, (_k, v) => MetaFile.fromJSON(v as never)) as Record<string, MetaFile>;
    return snap;
  };
  Snapshot.prototype.toJSON = function (this: Snapshot) {
    return {
      _type: this.type,
      meta: mapValues(this.meta, (_k, m) => m.toJSON()),
      spec_version: this.specVersion,
      version: this.version,
      expires: this.expires,
      ...this.unrecognizedFields,
    } as never;
  };
}

const targetsCtor = Targets as unknown as Patchable & { fromJSON(d: Json): Targets };
if (!targetsCtor.__provenantLinear) {
  targetsCtor.__provenantLinear = true;
  const original = targetsCtor.fromJSON.bind(Targets);
  targetsCtor.fromJSON = (data: Json) => {
    const { targets, ...rest } = data;
    if (targets === undefined) return original(data);
    if (!isRecord(targets)) throw new TypeError('targets must be an object');
    const md = original({ ...rest, targets: {} });
    (md as { targets: Record<string, TargetFile> }).targets = mapValues(targets, (k, v) => TargetFile.fromJSON(k, v as never)) as Record<string, TargetFile>;
    return md;
  };
  const originalToJSON = Targets.prototype.toJSON;
  Targets.prototype.toJSON = function (this: Targets) {
    // Only the `targets` map is rebuilt; everything else comes from the original.
    const empty = Object.create(this) as Targets;
    Object.defineProperty(empty, 'targets', { value: {} });
    const json = originalToJSON.call(empty) as Json;
    json.targets = mapValues(this.targets, (_k, t) => t.toJSON());
    return json as never;
  };
}
