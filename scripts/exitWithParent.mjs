// Preloaded (node --import) into the local chain's `hardhat node`: the chain exits when the process that
// started it dies, even by SIGKILL, instead of holding its port forever.
import { onParentExit } from "./onParentExit.mjs";

onParentExit(() => process.exit(0));
