/** Every CLI command, one module each. A module exports `register(program)`. */
import type { Command } from 'commander';
import { register as registerInspect } from './inspect.js';
import { register as registerBuild } from './build.js';
import { register as registerProfile } from './profile.js';
import { register as registerSchematic } from './schematic.js';
import { register as registerPull } from './pull.js';
import { register as registerImages } from './images.js';
import { register as registerServe } from './serve.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerInspect,
  registerBuild,
  registerProfile,
  registerSchematic,
  registerPull,
  registerImages,
  registerServe,
];
