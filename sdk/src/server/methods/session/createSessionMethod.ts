import type { Hex } from "viem";
import { formatChallenge, type PaymentChallenge } from "../../../protocol/challenge.js";
import type { SessionRequest } from "../../../session/request.js";
import type { GateContext, GateMethod, PricedRoute } from "../../core/GateMethod.js";
import { createRelayLimiter } from "../../createRelayLimiter.js";
import type { ChannelRecord, ChargeRecord } from "../../store/SessionStore.js";
import { createAdmission } from "./createAdmission.js";
import { createChannelClosing } from "./createChannelClosing.js";
import { createChannelHolds } from "./createChannelHolds.js";
import { createChannelRecords } from "./createChannelRecords.js";
import { createFunding } from "./createFunding.js";
import { createSessionAuthorization, type SessionRouteState } from "./createSessionAuthorization.js";
import { createSessionChallenges } from "./createSessionChallenges.js";
import { DEFAULT_CONTRACT_SIGNER_CREDIT } from "./contractSignerCredit.js";
import { recoverReservations } from "./recoverReservations.js";
import type { SessionContext, SessionMethodParameters } from "./SessionContext.js";
import { createVoucherSignatureCheck } from "./verifyVoucherSignature.js";

const DEFAULT_RECEIPT_TIMEOUT = 3_000;
const DEFAULT_IDEMPOTENCY_KEY_TTL = 86_400;

/** The `evm` session method as a gate holds it: a GateMethod, plus the session's own members of the gate. */
export type SessionMethod = GateMethod & {
  readonly name: "session";
  /** The route's challenge, optionally suggesting an existing channel. */
  challenge(route: PricedRoute, channelId?: Hex): PaymentChallenge;
  /** What the route asks for, amounts in base units. */
  request(route: PricedRoute): SessionRequest;
  onChannelUpdate(listener: (channel: ChannelRecord) => void): () => void;
  publish(channel: ChannelRecord): void;
  /** Closes a stored channel on-chain with the highest voucher held. */
  closeChannel(channelId: Hex): Promise<ChannelRecord>;
  /** Releases reservations left behind by a process that died (see `gate.recover`). */
  recover(options?: { olderThan?: number }): Promise<ChargeRecord[]>;
};

/**
 * The `evm` session method (draft-evm-session): payment channels on the escrow, paid with vouchers.
 * Every `Payment` credential another method does not claim is this method's to answer.
 */
export function createSessionMethod(parameters: SessionMethodParameters = {}): (context: GateContext) => SessionMethod {
  return (gateContext) => {
    const listeners = new Set<(channel: ChannelRecord) => void>();
    const context: SessionContext = {
      ...gateContext,
      escrow: gateContext.chain.escrow,
      feePayer: parameters.feePayer ?? false,
      chargeMode: parameters.chargeMode ?? "reserve",
      idempotencyKeyTtl: (parameters.idempotencyKeyTtl ?? DEFAULT_IDEMPOTENCY_KEY_TTL) * 1000,
      contractSignerCredit: parameters.contractSignerCredit === undefined ? DEFAULT_CONTRACT_SIGNER_CREDIT : parameters.contractSignerCredit,
      publish(channel) {
        for (const listener of listeners) listener(channel);
      },
    };
    const { store, now, publish } = context;
    const verifySignature = createVoucherSignatureCheck(context);
    const records = createChannelRecords(context);
    const holds = createChannelHolds();
    const funding = createFunding({
      ...context,
      relayLimiter: createRelayLimiter({ ...parameters.relayRateLimit, now }),
      receiptTimeout: parameters.receiptTimeout ?? DEFAULT_RECEIPT_TIMEOUT,
      acceptable: records.acceptable,
      verifySignature,
    });
    const closing = createChannelClosing(context, { records, holds, verifySignature });
    const admit = createAdmission(context, { funding, records, holds, verifySignature });
    const authorize = createSessionAuthorization(context, { admit, closing, holds });
    // Each priced route's request and challenge cache, built on first use.
    const routes = new WeakMap<PricedRoute, SessionRouteState>();
    const stateOf = (route: PricedRoute) => {
      let state = routes.get(route);
      if (state === undefined) routes.set(route, (state = { route, challenges: createSessionChallenges(context, route) }));
      return state;
    };

    return {
      name: "session",
      offer: (route) => ({ wwwAuthenticate: [formatChallenge(stateOf(route).challenges.challenge())] }),
      claims: ({ credential }) => credential !== undefined,
      // Claimed, so the request carries a Payment credential.
      authorize: ({ route, request, credential }) => authorize(stateOf(route), request, credential!),
      challenge: (route, channelId) => stateOf(route).challenges.challenge(channelId),
      request: (route) => stateOf(route).challenges.request,
      onChannelUpdate(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      publish,
      closeChannel: (channelId) => closing.closeWithHighestVoucher(channelId),
      recover: ({ olderThan } = {}) => recoverReservations({ store, now, publish, ...(olderThan === undefined ? {} : { olderThan }) }),
    };
  };
}
