import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../log/logger.js';
import { PostfixError } from './postfix-error.js';
import { runCommand } from './run-command.js';

export interface PostfixExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** true when the exit followed our own stop request. */
  readonly requested: boolean;
}

/**
 * Runs `postfix start-fg` as a child. Not being PID 1, postfix-script stays in front with master
 * as its child, so the child's exit is master's exit (postfix-notes: start-fg).
 */
export class PostfixSupervisor {
  private child: ChildProcess | undefined;
  private stopRequested = false;

  constructor(private readonly log: Logger) {}

  start(): Promise<PostfixExit> {
    // Postfix itself logs through the maillog pipe; this only carries what its scripts print.
    const child = spawn('postfix', ['start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        // The start-fg shell reports master's SIGTERM from `postfix stop` as "Terminated".
        if (!(this.stopRequested && line.trim() === 'Terminated')) this.log({ kind: 'postfix-line', line });
      });
    }
    if (child.pid !== undefined) this.log({ kind: 'postfix-started', pid: child.pid });
    return new Promise((resolve) => {
      child.on('error', (error) => {
        this.log({ kind: 'fatal', message: `cannot run postfix: ${error.message}` });
        resolve({ code: 127, signal: null, requested: this.stopRequested });
      });
      child.on('exit', (code, signal) => resolve({ code, signal, requested: this.stopRequested }));
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Re-reads main.cf and master.cf; listeners stay open, so no connection is refused. */
  async reload(): Promise<void> {
    const result = await runCommand('postfix', ['reload'], 10_000);
    if (result.exitCode !== 0) throw new PostfixError('POSTFIX_START_FAILED', `postfix reload failed: ${result.stderr.trim()}`);
  }

  /** `postfix stop` lets master's children finish what they are doing and removes its pid file. */
  async stop(): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    const result = await runCommand('postfix', ['stop'], 10_000);
    if (result.exitCode !== 0 && this.running) {
      this.log({ kind: 'warning', message: `postfix stop failed (${result.stderr.trim()}); sending SIGTERM` });
      this.child?.kill('SIGTERM');
    }
  }
}
