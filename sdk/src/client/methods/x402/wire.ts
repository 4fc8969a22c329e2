// x402 wire shapes as @x402/core 2.27.0 sends and reads them (client direction). To be folded into
// sdk/src/protocol at merge, beside the server direction.

/** v2: header of a 402 (base64 of this JSON). */
export const PAYMENT_REQUIRED_HEADER = "payment-required";
/** v2: header of a paid request. */
export const PAYMENT_SIGNATURE_HEADER = "payment-signature";
/** v2: header of the answer to a paid request. */
export const PAYMENT_RESPONSE_HEADER = "payment-response";
/** v1: header of a paid request. */
export const X_PAYMENT_HEADER = "x-payment";
/** v1: header of the answer to a paid request. */
export const X_PAYMENT_RESPONSE_HEADER = "x-payment-response";

export type ResourceInfo = { url: string; description?: string; mimeType?: string; [field: string]: unknown };

/** One way to pay, as a v2 `accepts` entry. */
export type PaymentRequirements = {
  scheme: string;
  /** CAIP-2, `eip155:<chainId>`. */
  network: string;
  asset: string;
  /** Base units, decimal string. */
  amount: string;
  payTo: string;
  maxTimeoutSeconds: number;
  /** For `exact` on EVM: the token's EIP-712 `name` and `version`, and `assetTransferMethod` (`eip3009` when absent). */
  extra: Record<string, unknown>;
};

/** The decoded `PAYMENT-REQUIRED` header. */
export type PaymentRequired = {
  x402Version: 2;
  error?: string;
  resource: ResourceInfo;
  accepts: PaymentRequirements[];
  extensions?: Record<string, unknown>;
};

/** One way to pay, as a v1 `accepts` entry (in the 402's JSON body). */
export type PaymentRequirementsV1 = {
  scheme: string;
  /** A v1 network name (`base`, `base-sepolia`, …) or `eip155:<chainId>`. */
  network: string;
  maxAmountRequired: string;
  /** Absolute URL of the resource. */
  resource: string;
  description: string;
  mimeType: string;
  outputSchema?: Record<string, unknown>;
  payTo: string;
  maxTimeoutSeconds: number;
  asset: string;
  extra?: Record<string, unknown>;
};

/** The 402's JSON body in v1. */
export type PaymentRequiredV1 = { x402Version: 1; error?: string; accepts: PaymentRequirementsV1[] };

/** The `exact` EVM payload: an EIP-3009 `TransferWithAuthorization` and its signature (amounts as decimal strings). */
export type ExactEvmPayload = {
  signature: `0x${string}`;
  authorization: { from: string; to: string; value: string; validAfter: string; validBefore: string; nonce: `0x${string}` };
};

/** v2 `PAYMENT-SIGNATURE` (base64 of this JSON); `accepted` echoes the chosen requirements verbatim. */
export type PaymentPayload = { x402Version: 2; resource?: ResourceInfo; accepted: Record<string, unknown>; payload: ExactEvmPayload };

/** v1 `X-PAYMENT` (base64 of this JSON). */
export type PaymentPayloadV1 = { x402Version: 1; scheme: string; network: string; payload: ExactEvmPayload };

/** `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`: the seller's claim about settlement. */
export type SettleResponse = { success: boolean; transaction: string; network: string; payer?: string; errorReason?: string };

/** x402 v1's EVM network names and their chain ids (as @x402/evm 2.27.0 maps them). */
export const V1_NETWORKS: Readonly<Record<string, number>> = {
  ethereum: 1,
  sepolia: 11155111,
  abstract: 2741,
  "abstract-testnet": 11124,
  "base-sepolia": 84532,
  base: 8453,
  "avalanche-fuji": 43113,
  avalanche: 43114,
  iotex: 4689,
  sei: 1329,
  "sei-testnet": 1328,
  polygon: 137,
  "polygon-amoy": 80002,
  peaq: 3338,
  story: 1514,
  educhain: 41923,
  "skale-base-sepolia": 324705682,
  megaeth: 4326,
  monad: 143,
  stable: 988,
  "stable-testnet": 2201,
  celo: 42220,
  flare: 14,
};
