/**
 * testcontainers reads its settings from the environment. Without a registry its Ryuk reaper cannot be
 * pulled (pooltune labels and removes its own containers instead), and on a machine with `/.dockerenv`
 * it would look up a `bridge` network the engine may not have: the engine is reached on 127.0.0.1.
 * A user's own settings win.
 */
export function containerDefaults(env: Record<string, string | undefined>): void {
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}
