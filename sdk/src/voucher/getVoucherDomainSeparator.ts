import { bytesToHex, type Hex } from "viem";
import type { GetVoucherDomainParameters } from "./getVoucherDomain.js";
import { voucherDomainSeparatorBytes } from "./voucherDomainSeparatorBytes.js";

export type GetVoucherDomainSeparatorParameters = GetVoucherDomainParameters;

/** The escrow's EIP-712 domain separator, equal to its `domainSeparator()`. */
export function getVoucherDomainSeparator({ chainId, escrow }: GetVoucherDomainSeparatorParameters): Hex {
  return bytesToHex(voucherDomainSeparatorBytes(chainId, escrow));
}
