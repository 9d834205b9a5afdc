import type { Root, Targets } from '@tufjs/models';
import { releaseDelegationOf } from '../tuf/changes.ts';
import { RepositoryConfigSchema, TOP_ROLES, type RepositoryConfig } from '../tuf/config.ts';

/**
 * The settings after a ceremony: each role's key ids and threshold as the new root (and the
 * new targets' bin delegation) name them, for the parts the ceremony changed; expiry periods and the bin layout as they were. The
 * loader refuses settings that disagree with the signed metadata, so they move with it.
 */
export function settingsAfter(config: RepositoryConfig, root: Root | undefined, targets: Targets | undefined): RepositoryConfig {
  const roles = { ...config.roles };
  for (const role of root ? TOP_ROLES : []) {
    const r = root!.roles[role]!;
    roles[role] = { ...config.roles[role], keyids: [...r.keyIDs], threshold: r.threshold };
  }
  if (targets) {
    const bins = releaseDelegationOf(targets);
    roles.bins = { ...config.roles.bins, keyids: [...bins.keyIDs], threshold: bins.threshold };
  }
  return RepositoryConfigSchema.parse({ ...config, roles });
}
