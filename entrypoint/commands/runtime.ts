import type { HostFacts } from '../config/config.js';
import type { Env, ReadTextFile } from '../config/resolve-secret-files.js';

/** The process state a command may use, handed over by main.ts (the only module that reads it). */
export interface Runtime {
  readonly env: Env;
  readonly facts: HostFacts;
  readonly readTextFile: ReadTextFile;
  readonly writeStdout: (text: string) => void;
  readonly writeStderr: (text: string) => void;
  readonly onSignal: (signal: NodeJS.Signals, handler: () => void) => void;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_CONFIG = 2;
