import { erc20Abi, type Hex, isAddressEqual, parseEventLogs, TransactionReceiptNotFoundError, WaitForTransactionReceiptTimeoutError } from "viem";
import { waitForTransactionReceipt } from "viem/actions";
import { eip3009Events } from "../../../authorization/eip3009Abi.js";
import { parseBytes32 } from "../../../encoding/parseBytes32.js";
import { RpcError } from "../../../errors/RpcError.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import type { TransferAuthorization, X402Version } from "../../../protocol/x402.js";
import { onChain } from "../../chain.js";
import type { GateContext } from "../../core/GateMethod.js";

/** An x402 facilitator's HTTP API (`POST /verify`, `POST /settle`). */
export type FacilitatorConfig = {
  /** Base URL: `${url}/verify` and `${url}/settle` are called. */
  url: string;
  /** Extra request headers (an API key…). */
  headers?: Record<string, string>;
};

/** What the facilitator is asked about: x402's `{ x402Version, paymentPayload, paymentRequirements }`, in wire form. */
export type FacilitatorRequest = { x402Version: X402Version; paymentPayload: unknown; paymentRequirements: unknown };

/**
 * Verification and settlement through an x402 facilitator, whose answers are claims: `/verify` can
 * only refuse a payment the gate already verified itself, and `/settle`'s transaction must be mined on
 * this chain, succeed, and carry the token's `AuthorizationUsed(payer, nonce)` and
 * `Transfer(payer, recipient, value)`, else the payment is not settled (a 402, no content). A
 * facilitator that cannot be reached is an RpcError (a 503); a settlement it may have sent stays pending
 * for recovery (`gate.recoverPayments`).
 */
export function createFacilitator(config: FacilitatorConfig, context: GateContext) {

  async function call(action: "verify" | "settle", body: FacilitatorRequest): Promise<Record<string, unknown>> {
    let answer: unknown;
    try {
      const response = await fetch(new URL(action, config.url.endsWith("/") ? config.url : `${config.url}/`), {
        method: "POST",
        headers: { "content-type": "application/json", ...config.headers },
        body: JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
        signal: AbortSignal.timeout(context.chain.timeout),
      });
      answer = await response.json();
    } catch (cause) {
      throw new RpcError(`Could not reach the x402 facilitator to ${action}`, { cause });
    }
    if (typeof answer !== "object" || answer === null) throw new RpcError(`The x402 facilitator's /${action} answer is not a JSON object`);
    return answer as Record<string, unknown>;
  }

  const refused = (reason: string, detail: string) => new PaymentProblemError("verification-failed", { detail, extensions: { reason } });

  return {
    /** Asks `/verify`; an answer other than `isValid: true` refuses the payment. */
    async verify(request: FacilitatorRequest): Promise<void> {
      const answer = await call("verify", request);
      if (answer.isValid !== true) throw refused("facilitator-refused", `The facilitator refused the payment (${String(answer.invalidReason ?? "no reason given")})`);
    },

    /** Asks `/settle` and checks its claimed transaction on the chain; resolves with its hash. */
    async settle(request: FacilitatorRequest, authorization: TransferAuthorization, network: string): Promise<Hex> {
      const answer = await call("settle", request);
      if (answer.success !== true) throw refused("settlement-failed", `The facilitator did not settle the payment (${String(answer.errorReason ?? "no reason given")})`);
      let hash: Hex;
      try {
        hash = parseBytes32(answer.transaction);
      } catch {
        throw refused("settlement-unproven", "The facilitator claimed a settlement without a transaction hash");
      }
      if (answer.network !== network) throw refused("settlement-unproven", `The facilitator settled on ${String(answer.network)}, not ${network}`);
      const receipt = await onChain("fetch the settlement's receipt", () =>
        waitForTransactionReceipt(context.chain.publicClient, { hash, timeout: context.chain.timeout }).catch((error: unknown) => {
          if (error instanceof WaitForTransactionReceiptTimeoutError || error instanceof TransactionReceiptNotFoundError) return null;
          throw error;
        }),
      );
      const logs = receipt?.status === "success" ? parseEventLogs({ abi: [...eip3009Events, ...erc20Abi], logs: receipt.logs }).filter((log) => isAddressEqual(log.address, context.currency)) : [];
      const used = logs.some((log) => log.eventName === "AuthorizationUsed" && isAddressEqual(log.args.authorizer, authorization.from) && log.args.nonce === authorization.nonce);
      const paid = logs.some(
        (log) => log.eventName === "Transfer" && isAddressEqual(log.args.from, authorization.from) && isAddressEqual(log.args.to, context.recipient) && log.args.value === authorization.value,
      );
      if (!used || !paid) throw refused("settlement-unproven", `The facilitator's transaction ${hash} did not transfer this authorization to the recipient on this chain`);
      return hash;
    },
  };
}
