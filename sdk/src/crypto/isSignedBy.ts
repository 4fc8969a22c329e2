import { bytesToHex } from "@noble/hashes/utils.js";
import type { Address } from "viem";
import { addressOf, recoverPublicKey } from "./recoverPublicKey.js";
import type { Secp256k1Backend } from "./Secp256k1Backend.js";

// Public keys already proven to belong to an address. A server meets the same few signers again and
// again, and comparing 65 bytes spares the keccak that would turn the recovered key into an address
// (a third of a native verification's hashing). Two keys with one address would need a keccak collision.
const MAX_KNOWN = 10_000;
const knownKeys = new Map<string, Uint8Array>();

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `signature` over `hash` is a valid ECDSA signature (by the escrow's rules) of `signer`. */
export function isSignedBy(hash: Uint8Array, signature: Uint8Array, signer: Address, backend?: Secp256k1Backend): boolean {
  const publicKey = recoverPublicKey(hash, signature, backend);
  if (publicKey === null) return false;
  const key = signer.toLowerCase();
  const known = knownKeys.get(key);
  if (known !== undefined) return equalBytes(known, publicKey);
  if (`0x${bytesToHex(addressOf(publicKey))}` !== key) return false;
  if (knownKeys.size >= MAX_KNOWN) knownKeys.clear();
  knownKeys.set(key, publicKey);
  return true;
}
