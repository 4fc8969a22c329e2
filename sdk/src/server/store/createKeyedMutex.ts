/** Per-key async mutex: `lock(key)` resolves, in arrival order, once every earlier holder of `key` has released it. */
export type KeyedMutex = {
  lock(key: string): Promise<() => void>;
  /** Resolves when every lock taken so far has been released. */
  idle(): Promise<void>;
};

export function createKeyedMutex(): KeyedMutex {
  // Tail of each key's queue; a new waiter chains onto it. Keys leave the map when their queue drains.
  const tails = new Map<string, Promise<void>>();
  return {
    async lock(key) {
      const previous = tails.get(key);
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      const tail = previous === undefined ? done : previous.then(() => done);
      tails.set(key, tail);
      if (previous !== undefined) await previous;
      return () => {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      };
    },
    async idle() {
      while (tails.size > 0) await Promise.all(tails.values());
    },
  };
}
