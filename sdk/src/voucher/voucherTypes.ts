/** The escrow's EIP-712 domain name and version (spec "Domain Separator"; TollgateEscrow's constructor). */
export const VOUCHER_DOMAIN_NAME = "EVM Payment Channel";
export const VOUCHER_DOMAIN_VERSION = "1";

/** EIP-712 types of a voucher: `Voucher(bytes32 channelId,uint128 cumulativeAmount)`. */
export const voucherTypes = {
  Voucher: [
    { name: "channelId", type: "bytes32" },
    { name: "cumulativeAmount", type: "uint128" },
  ],
} as const;
