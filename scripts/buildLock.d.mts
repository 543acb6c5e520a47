/** See buildLock.mjs: runs `task` holding the lock directory `lockDir`, waiting for any other holder. */
export function withBuildLock<T>(lockDir: string, task: () => Promise<T> | T): Promise<T>;
/** Every file below `dir`, relative to it. */
export function filesBelow(dir: string, prefix?: string): string[];
/** See buildLock.mjs: moves a build from `staging` into `out` file by file, `last` last; the files moved. */
export function moveBuildInto(staging: string, out: string, last?: string): string[];
