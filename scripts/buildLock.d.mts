/** See buildLock.mjs: runs `task` holding the lock directory `lockDir`, waiting for any other holder. */
export function withBuildLock<T>(lockDir: string, task: () => Promise<T> | T): Promise<T>;
