import type { ConfigProblem } from './config-error.js';
import { FILE_VARIABLES } from './env-names.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadTextFile = (path: string) => string;

export interface ResolvedEnv {
  readonly env: Env;
  readonly problems: readonly ConfigProblem[];
}

/** Replaces NAME_FILE by NAME's content; envalid knows nothing of *_FILE, so this runs first. */
export function resolveSecretFiles(env: Env, readTextFile: ReadTextFile): ResolvedEnv {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: ConfigProblem[] = [];
  for (const name of FILE_VARIABLES) {
    const fileVariable = `${name}_FILE`;
    const path = env[fileVariable];
    delete resolved[fileVariable];
    if (path === undefined) continue;
    if (env[name] !== undefined) {
      problems.push({ variable: name, message: `is set both directly and through ${fileVariable}; keep one` });
      continue;
    }
    try {
      resolved[name] = stripOneTrailingNewline(readTextFile(path));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push({ variable: fileVariable, message: `cannot read the file ${path} (${reason})` });
    }
  }
  return { env: resolved, problems };
}

/** Editors and `echo` end secret files with a newline that is not part of the secret. */
function stripOneTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
