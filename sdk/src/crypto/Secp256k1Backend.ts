/**
 * Which secp256k1 implementation recovers signers: `"native"` is libsecp256k1 (about 25 times faster),
 * `"js"` is @noble/curves. Both give identical answers; `"auto"` picks native when it loads.
 */
export type Secp256k1Backend = "auto" | "native" | "js";
