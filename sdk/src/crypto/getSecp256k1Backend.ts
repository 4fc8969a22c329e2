import { resolveSecp256k1Backend } from "./recoverPublicKey.js";

export type GetSecp256k1BackendReturnType = "native" | "js";

/** Which implementation verifies vouchers by default here: `"native"` (libsecp256k1) or `"js"` (@noble/curves). Worth logging at start-up. */
export function getSecp256k1Backend(): GetSecp256k1BackendReturnType {
  return resolveSecp256k1Backend("auto");
}
