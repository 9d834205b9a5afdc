/** The first of `names` set to a non-empty value in `env` (an empty variable counts as unset). */
export function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}
