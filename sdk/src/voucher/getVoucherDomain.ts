import { type Address, getAddress } from "viem";
import { assertChainId } from "../encoding/assertChainId.js";
import { VOUCHER_DOMAIN_NAME, VOUCHER_DOMAIN_VERSION } from "./voucherTypes.js";

export type GetVoucherDomainParameters = {
  chainId: number;
  /** The escrow contract, the domain's `verifyingContract`. */
  escrow: Address;
};

export type GetVoucherDomainReturnType = {
  name: typeof VOUCHER_DOMAIN_NAME;
  version: typeof VOUCHER_DOMAIN_VERSION;
  chainId: number;
  verifyingContract: Address;
};

/** The EIP-712 domain under which vouchers and payee authorizations for `escrow` are signed. */
export function getVoucherDomain({ chainId, escrow }: GetVoucherDomainParameters): GetVoucherDomainReturnType {
  assertChainId(chainId);
  return { name: VOUCHER_DOMAIN_NAME, version: VOUCHER_DOMAIN_VERSION, chainId, verifyingContract: getAddress(escrow) };
}
