import type { RegisterCommand } from '../context.ts';
import { register as sign } from './sign.ts';

/** Every subcommand, in the order `--help` lists them. Each lives in its own file here. */
export const commands: RegisterCommand[] = [
  sign,
];
