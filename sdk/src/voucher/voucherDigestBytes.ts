import { keccak_256 } from "@noble/hashes/sha3.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Address, Hex } from "viem";
import { assertUint128 } from "../encoding/assertUint128.js";
import { hexToFixedBytes } from "../encoding/hexToFixedBytes.js";
import { voucherDomainSeparatorBytes } from "./voucherDomainSeparatorBytes.js";

const VOUCHER_TYPEHASH = keccak_256(utf8ToBytes("Voucher(bytes32 channelId,uint128 cumulativeAmount)"));

export type VoucherFields = {
  chainId: number;
  escrow: Address;
  channelId: Hex;
  cumulativeAmount: bigint;
};

/**
 * The EIP-712 signing hash of a voucher, built on bytes: hashing through hex strings costs more than
 * the rest of a native signature recovery.
 */
export function voucherDigestBytes({ chainId, escrow, channelId, cumulativeAmount }: VoucherFields): Uint8Array {
  assertUint128(cumulativeAmount);
  const struct = new Uint8Array(96);
  struct.set(VOUCHER_TYPEHASH, 0);
  struct.set(hexToFixedBytes(channelId, 32, "bytes32"), 32);
  const view = new DataView(struct.buffer);
  view.setBigUint64(80, cumulativeAmount >> 64n);
  view.setBigUint64(88, cumulativeAmount & 0xffffffffffffffffn);

  const message = new Uint8Array(66);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(voucherDomainSeparatorBytes(chainId, escrow), 2);
  message.set(keccak_256(struct), 34);
  return keccak_256(message);
}
