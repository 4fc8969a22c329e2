/** Runs `task` after every earlier task under the same key has settled. */
export type Exclusive = <T>(key: string, task: () => Promise<T>) => Promise<T>;

/** Per-key queues: tasks under one key run one at a time, in order; a failed task does not block the next. */
export function createExclusive(): Exclusive {
  const locks = new Map<string, Promise<unknown>>();
  return function exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  };
}
