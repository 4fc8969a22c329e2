/** Calls back once when this process's parent (or $TOLLGATE_PARENT_PID) is gone, however it went. */
export function onParentExit(callback: () => void): void;
