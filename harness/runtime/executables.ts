import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';

/** True when `file` is a regular file this user may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    // accessSync throws when the file is not executable for this user.
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `command` in the directories of `PATH`, or undefined. */
export function findOnPath(command: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
