import type { AsyncLocalStorage } from "node:async_hooks";
import { StoreError } from "../../errors/StoreError.js";

type Frame = { readonly store: object; readonly parent: Frame | undefined; active: boolean };

// Loaded through getBuiltinModule so the memory store still imports where there is no Node (it then
// simply goes unguarded).
const AsyncLocalStorageClass = (
  globalThis.process?.getBuiltinModule?.("node:async_hooks") as typeof import("node:async_hooks") | undefined
)?.AsyncLocalStorage;
const frames: AsyncLocalStorage<Frame> | undefined = AsyncLocalStorageClass ? new AsyncLocalStorageClass<Frame>() : undefined;

/**
 * Detects a `withChannel` called from inside another `withChannel` callback on the same store. Such a
 * call can never make progress: the outer one holds the lock (or, on SQLite, the only connection) the
 * inner one waits for, so it is rejected up front instead of hanging. A frame stays marked only while
 * its callback runs, so promises the callback leaves behind may call `withChannel` later.
 */
export type ChannelScope = {
  /** Throws when called from inside a `run` of the same scope that has not finished yet. */
  assertOutside(): void;
  run<T>(fn: () => Promise<T>): Promise<T>;
};

export function createChannelScope(): ChannelScope {
  const store = {};
  return {
    assertOutside() {
      for (let frame = frames?.getStore(); frame !== undefined; frame = frame.parent) {
        if (frame.store === store && frame.active) {
          throw new StoreError("misuse", "withChannel called inside another withChannel on the same store; it would deadlock");
        }
      }
    },
    async run(fn) {
      if (frames === undefined) return fn();
      const frame: Frame = { store, parent: frames.getStore(), active: true };
      try {
        return await frames.run(frame, fn);
      } finally {
        frame.active = false;
      }
    },
  };
}
