import type { Address } from "viem";

/** Where Uniswap deploys Permit2 on every chain (the charge draft's default `permit2Address`). */
export const PERMIT2_ADDRESS: Address = "0x000000000022D473030F116dDEE9F6B43aC78BA3";

const tokenPermissions = {
  name: "permitted",
  type: "tuple",
  components: [
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
  ],
} as const;

/**
 * The part of Permit2's `SignatureTransfer` a seller uses: the single witness transfer, the owner's
 * unordered nonce bitmap, its own EIP-712 domain separator, and the errors it reverts with.
 */
export const permit2Abi = [
  {
    type: "function",
    name: "permitWitnessTransferFrom",
    stateMutability: "nonpayable",
    inputs: [
      {
        name: "permit",
        type: "tuple",
        components: [tokenPermissions, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }],
      },
      {
        name: "transferDetails",
        type: "tuple",
        components: [
          { name: "to", type: "address" },
          { name: "requestedAmount", type: "uint256" },
        ],
      },
      { name: "owner", type: "address" },
      { name: "witness", type: "bytes32" },
      { name: "witnessTypeString", type: "string" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "nonceBitmap",
    stateMutability: "view",
    inputs: [
      { name: "owner", type: "address" },
      { name: "wordPosition", type: "uint256" },
    ],
    outputs: [{ type: "uint256" }],
  },
  {
    type: "function",
    name: "invalidateUnorderedNonces",
    stateMutability: "nonpayable",
    inputs: [
      { name: "wordPos", type: "uint256" },
      { name: "mask", type: "uint256" },
    ],
    outputs: [],
  },
  { type: "function", name: "DOMAIN_SEPARATOR", stateMutability: "view", inputs: [], outputs: [{ type: "bytes32" }] },
  {
    type: "event",
    name: "UnorderedNonceInvalidation",
    inputs: [
      { name: "owner", type: "address", indexed: true },
      { name: "word", type: "uint256", indexed: false },
      { name: "mask", type: "uint256", indexed: false },
    ],
  },
  { type: "error", name: "InvalidNonce", inputs: [] },
  { type: "error", name: "InvalidSigner", inputs: [] },
  { type: "error", name: "InvalidSignature", inputs: [] },
  { type: "error", name: "InvalidSignatureLength", inputs: [] },
  { type: "error", name: "InvalidContractSignature", inputs: [] },
  { type: "error", name: "LengthMismatch", inputs: [] },
  { type: "error", name: "SignatureExpired", inputs: [{ name: "signatureDeadline", type: "uint256" }] },
  { type: "error", name: "InvalidAmount", inputs: [{ name: "maxAmount", type: "uint256" }] },
] as const;

/** Whether Permit2 nonce `nonce` of `owner` is spent, given the bitmap word `nonceBitmap(owner, nonce >> 8)`. */
export function isPermit2NonceUsed(word: bigint, nonce: bigint): boolean {
  return ((word >> (nonce & 0xffn)) & 1n) === 1n;
}
