/**
 * Every process group pooltune starts is registered here until it is stopped, so that an exit path that
 * cannot await (a crash, a second Ctrl-C, `process.on('exit')`) can still kill them all synchronously.
 */
export class CleanupRegistry {
  readonly #groups = new Map<number, string>();

  /** Records a live process group (its leader's pid) and what it is. */
  addGroup(pgid: number, what: string): void {
    this.#groups.set(pgid, what);
  }

  /** Forgets a process group that has been stopped. */
  removeGroup(pgid: number): void {
    this.#groups.delete(pgid);
  }

  /** What is still running, for messages. */
  live(): string[] {
    return [...this.#groups.values()];
  }

  /** Sends SIGKILL to every registered group. Safe to call from an `exit` handler. */
  killAllSync(kill: (pid: number, signal: NodeJS.Signals) => void): void {
    for (const pgid of this.#groups.keys()) {
      try {
        kill(-pgid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.#groups.clear();
  }
}
