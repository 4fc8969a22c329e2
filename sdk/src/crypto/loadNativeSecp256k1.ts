/** The part of the `secp256k1` package's libsecp256k1 binding the SDK uses. */
export type NativeSecp256k1 = {
  ecdsaRecover(signature: Uint8Array, recovery: number, hash: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
};

let loaded: NativeSecp256k1 | null | undefined;

/**
 * Loads libsecp256k1 through the optional `secp256k1` package on first use, or returns null when it
 * is not installed, its prebuilt binary does not load, or there is no Node `require` (browsers).
 * `secp256k1/bindings` is the native addon alone: the package's main entry would quietly fall back
 * to a slow pure-JS build, hiding that the fast path is missing.
 */
export function loadNativeSecp256k1(): NativeSecp256k1 | null {
  if (loaded !== undefined) return loaded;
  try {
    const nodeModule = globalThis.process?.getBuiltinModule?.("node:module");
    loaded = nodeModule ? (nodeModule.createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1) : null;
  } catch {
    loaded = null;
  }
  return loaded;
}
