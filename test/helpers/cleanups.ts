import { afterEach } from 'vitest';

/** Something to undo after a test: close a server, remove a directory. */
export type Cleanup = () => Promise<void> | void;

/** The cleanups of one test file and a way to register a server among them. */
export interface Cleanups {
  /** Run last-in first-out after each test, then emptied. */
  cleanups: Cleanup[];
  /** Closes `server` after the test; returns it. */
  track<T extends { close(): Promise<void> }>(server: T): T;
}

/** Call once at the top of a test file: registers the afterEach that runs the cleanups. */
export function useCleanups(): Cleanups {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return {
    cleanups,
    track(server) {
      cleanups.push(() => server.close());
      return server;
    },
  };
}
