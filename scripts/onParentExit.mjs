// Calls back once when this process's parent is gone, however it went (SIGKILL included, which no signal
// handler sees): Linux re-parents an orphan, so `process.ppid` changes. TOLLGATE_PARENT_PID names one more
// ancestor to outlive no longer (the CLI sets it for the demo, which runs under npm, sh and tsx).
// Plain JavaScript: the local chain's `hardhat node` preloads it through exitWithParent.mjs, without tsx.

const POLL_MS = 250;

/** @param {() => void} callback */
export function onParentExit(callback) {
  const parent = process.ppid;
  const ancestor = Number(process.env.TOLLGATE_PARENT_PID ?? "");
  const gone = () => process.ppid !== parent || (Number.isSafeInteger(ancestor) && ancestor > 1 && !isAlive(ancestor));
  const timer = setInterval(() => {
    if (!gone()) return;
    clearInterval(timer);
    callback();
  }, POLL_MS);
  timer.unref();
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return /** @type {NodeJS.ErrnoException} */ (error).code === "EPERM";
  }
}
