import { keccak_256 } from "@noble/hashes/sha3.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Address } from "viem";
import { assertChainId } from "../encoding/assertChainId.js";
import { hexToFixedBytes } from "../encoding/hexToFixedBytes.js";
import { VOUCHER_DOMAIN_NAME, VOUCHER_DOMAIN_VERSION } from "./voucherTypes.js";

const DOMAIN_TYPEHASH = keccak_256(
  utf8ToBytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);
const NAME_HASH = keccak_256(utf8ToBytes(VOUCHER_DOMAIN_NAME));
const VERSION_HASH = keccak_256(utf8ToBytes(VOUCHER_DOMAIN_VERSION));

// A server talks to a handful of escrows; the bound only guards against a caller that feeds
// arbitrary (chainId, escrow) pairs, which would otherwise grow the cache without limit.
const MAX_CACHED = 256;
const cache = new Map<string, Uint8Array>();

/**
 * The escrow's EIP-712 domain separator as bytes, computed once per (chainId, escrow) and cached,
 * since every voucher verification needs it. Callers must not mutate the returned array.
 */
export function voucherDomainSeparatorBytes(chainId: number, escrow: Address): Uint8Array {
  const key = `${chainId}:${escrow.toLowerCase()}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  assertChainId(chainId);
  const encoded = new Uint8Array(160);
  encoded.set(DOMAIN_TYPEHASH, 0);
  encoded.set(NAME_HASH, 32);
  encoded.set(VERSION_HASH, 64);
  new DataView(encoded.buffer).setBigUint64(120, BigInt(chainId));
  encoded.set(hexToFixedBytes(escrow, 20, "address"), 140);
  const separator = keccak_256(encoded);

  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, separator);
  return separator;
}
