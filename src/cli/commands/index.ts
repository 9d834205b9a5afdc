import type { RegisterCommand } from '../context.ts';
import { register as build } from './build.ts';
import { register as release } from './release.ts';
import { register as sign } from './sign.ts';
import { register as serve } from './serve.ts';
import { register as repo } from './repo.ts';
import { register as publish } from './publish.ts';
import { register as download } from './download.ts';

/** Every subcommand, in the order `--help` lists them. Each lives in its own file here. */
export const commands: RegisterCommand[] = [
  release,
  build,
  sign,
  publish,
  repo,
  serve,
  download,
];
