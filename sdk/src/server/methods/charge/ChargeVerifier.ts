import type { Address, Hex } from "viem";
import type { PaymentChallenge } from "../../../protocol/challenge.js";
import type { ChargePayload } from "../../../protocol/charge.js";
import type { TransferAuthorization } from "../../../protocol/x402.js";
import type { GateContext } from "../../core/GateMethod.js";
import type { PaymentCredential } from "../../store/SessionStore.js";

/** What every credential type's verifier is given: the payload of its type and the challenge it answers. */
export type VerifyChargeParameters<P extends ChargePayload = ChargePayload> = {
  context: GateContext;
  payload: P;
  /** The echoed challenge, already checked as one this gate issued for this route, unexpired. */
  challenge: PaymentChallenge;
  /** What the challenge asks, in base units. */
  amount: bigint;
  /** The credential's `source` (a `did:pkh`): the payer, for types whose payload does not name it (`permit2`). */
  source?: string | undefined;
};

/** A credential that passed its type's verification, ready to be recorded once and settled. */
export type VerifiedCharge = {
  credential: PaymentCredential;
  /** Who pays, how much, and the credential's replay token. */
  claim: { payer: Address; amount: bigint; nonce: Hex };
  /** Moves the money and resolves with the mined transaction; runs only for a billable response. */
  settle(): Promise<Hex>;
  /**
   * The transfer was mined before the request arrived (`hash`): nothing is left to settle or release, so
   * the payment stays settled whatever the handler answers.
   */
  paidInAdvance?: boolean;
  /** An EIP-3009 credential's authorization: what a seller's deferred settlement submits later, in a batch. */
  transferAuthorization?: { authorization: TransferAuthorization; signature: Hex };
};

/** One credential type's verification ("Verification Procedure", step 6). */
export type ChargeVerifier<P extends ChargePayload = ChargePayload> = (parameters: VerifyChargeParameters<P>) => Promise<VerifiedCharge>;
