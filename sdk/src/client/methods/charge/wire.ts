// The MPP `evm` `charge` intent's wire shapes (draft-evm-charge-01; mppx 0.11.0), client direction. To be
// folded into sdk/src/protocol at merge, beside the server direction.
import type { Hex } from "viem";
import type { ChargeCredentialType } from "../../../protocol/charge.js";

/** The `request` of an `evm` `charge` challenge, as JSON (amounts as decimal strings). */
export type ChargeRequestJson = {
  amount: string;
  currency: string;
  recipient: string;
  description?: string;
  externalId?: string;
  methodDetails: {
    chainId: number;
    permit2Address?: string;
    /** Ordered by the seller's preference; the client uses the first it supports. */
    credentialTypes?: ChargeCredentialType[];
    decimals?: number;
    splits?: { recipient: string; amount: string; memo?: string }[];
  };
};

/** The `authorization` credential's payload: an EIP-3009 `transferWithAuthorization` the seller submits. */
export type ChargeAuthorizationPayload = {
  type: "authorization";
  from: string;
  to: string;
  value: string;
  validAfter: string;
  validBefore: string;
  /** The challenge hash (chargeChallengeHash): binds the transfer to this challenge. */
  nonce: Hex;
  signature: Hex;
};
