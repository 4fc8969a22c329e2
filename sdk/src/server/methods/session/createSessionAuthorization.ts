import type { Hex } from "viem";
import { formatChallenge, type PaymentChallenge } from "../../../protocol/challenge.js";
import { PaymentProblemError } from "../../../protocol/problems.js";
import { parseSessionPayload } from "../../../session/payload.js";
import { acceptVoucher, available, finishCharge, insufficientBalance, recordHeld } from "../../accounting.js";
import { type Authorization, type PaidRequest, type PaymentCredentialInput, type PricedRoute, usageLabel } from "../../core/GateMethod.js";
import { receiptHeaders } from "../../core/receiptHeaders.js";
import type { ChannelRecord, ChannelTransaction } from "../../store/SessionStore.js";
import { problemResponse } from "../../problemResponse.js";
import { assertAdmissible, isAdmissible } from "./assertAdmissible.js";
import type { Admitted, createAdmission } from "./createAdmission.js";
import type { ChannelHolds } from "./createChannelHolds.js";
import type { createChannelClosing } from "./createChannelClosing.js";
import type { SessionChallenges } from "./createSessionChallenges.js";
import { sessionReceipt } from "./sessionReceipt.js";
import type { SessionContext } from "./SessionContext.js";

export type SessionAuthorizationDependencies = {
  admit: ReturnType<typeof createAdmission>;
  closing: ReturnType<typeof createChannelClosing>;
  holds: ChannelHolds;
};

/** A route's session, as `authorize` needs it: its prices and its challenges. */
export type SessionRouteState = { route: PricedRoute; challenges: SessionChallenges };

/**
 * The session method's `authorize`: the credential answers a challenge of this route; a `close` is
 * answered here; any other action is admitted (funding, voucher, the request's cost held) and, unless
 * it is a management credential, handed to the handler under a payment whose cost `finish` commits.
 */
export function createSessionAuthorization(context: SessionContext, { admit, closing, holds }: SessionAuthorizationDependencies) {
  const { store, now, chargeMode, publish } = context;

  async function authorize({ route, challenges }: SessionRouteState, request: Request, credential: PaymentCredentialInput): Promise<Authorization> {
    let channelId: Hex | undefined;
    const problem = (error: unknown) => problemResponse(error, () => formatChallenge(challenges.challenge(channelId)));
    try {
      const { challenge, payload: raw, source } = credential.parsed();
      const payload = parseSessionPayload(raw);
      channelId = payload.channelId;
      challenges.verifyChallenge(challenge);
      // Management credentials are answered here on whatever method the route has (a GET-only route
      // must be able to close): they carry no request for the handler to serve.
      if (payload.action === "close") return { response: await closing.closeAction(payload, route.amount, challenge) };
      const management = request.method === "HEAD" || payload.action === "topUp";
      const requested = management ? 0n : route.units(request);
      const admitted = await admit({
        request,
        payload,
        source,
        requested,
        amount: route.amount,
        minVoucherDelta: route.minVoucherDelta ?? 0n,
        minRelayedDeposit: route.minRelayedDeposit ?? route.amount,
        route: challenges.canonicalRequest,
        usage: usageLabel(route),
      });
      publish(admitted.channel);
      // HEAD carries credentials only (the draft's voucher updates), a top-up only funding: answered
      // here, never by the handler, whose content would be produced (a metered stream charged) and dropped.
      if (management) {
        return { response: new Response(null, { status: 204, headers: receiptHeaders(sessionReceipt({ channel: admitted.channel, challenge, at: now() })) }) };
      }
      // A request that costs nothing (a metered stream charges as it goes) starts only on a channel that can
      // pay for one unit: an empty channel would otherwise hold a connection and a handler for free.
      if (requested === 0n && available(admitted.channel) < route.amount) throw insufficientBalance(admitted.channel, route.amount);
      return { ...held(route, admitted, requested, challenge), problem };
    } catch (error) {
      const response = problem(error);
      if (response) return { response };
      throw error;
    }
  }

  /**
   * Writes a channel under its lock and publishes it. This process's view of the channel follows what it
   * stores; a write that fails leaves it unknown, so the view is dropped and the next request reads the store.
   * `release` ends a hold the written channel now accounts for, in the same step as the view takes it, so
   * that no reader (nor a later call in the same batch) sees the cost both charged and held, or neither.
   */
  async function write(channelId: Hex, update: (tx: ChannelTransaction) => Promise<ChannelRecord>, release?: () => void): Promise<ChannelRecord> {
    try {
      const written = await store.withChannel(channelId, async (tx) => {
        const updated = await update(tx);
        release?.();
        holds.stored(updated);
        await tx.putChannel(updated);
        return updated;
      });
      publish(written);
      return written;
    } catch (error) {
      holds.forget(channelId);
      throw error;
    }
  }

  /** The payment an admitted request is served under, and the two ways its held cost ends. */
  function held(route: PricedRoute, admitted: Admitted, requested: bigint, challenge: PaymentChallenge): Omit<PaidRequest, "problem"> {
    const { channel, fresh, key } = admitted;
    const finish = async (outcome: "committed" | "released") => {
      if (admitted.held) return finishHeld(admitted.held, outcome);
      if (!fresh || chargeMode === "charge") return channel;
      return write(channel.channelId, (tx) => finishCharge(tx, tx.channel ?? channel, key, outcome, now()));
    };
    /**
     * The one write of a request admitted in process: its voucher, and its charge when committed, checked
     * under the lock against the channel as stored (another instance may have spent from it or closed it:
     * then the request is refused, its content never sent).
     */
    const finishHeld = async ({ voucher, cost, release }: NonNullable<Admitted["held"]>, outcome: "committed" | "released") => {
      try {
        const update = async (tx: ChannelTransaction) => {
          const stored = tx.channel;
          if (stored === undefined) throw new PaymentProblemError("channel-not-found", { detail: "The channel is no longer stored", extensions: { channelId: channel.channelId } });
          // A channel being closed settles with the voucher its close took (which counted this process's
          // holds): a request admitted before the close is charged only within that voucher.
          const open = isAdmissible(stored);
          const accepted = open ? acceptVoucher(stored, voucher, 0n) : stored;
          if (!open && outcome === "committed" && available(accepted) < cost) assertAdmissible(accepted);
          return recordHeld({ tx, channel: accepted, key, cost, units: requested, usage: usageLabel(route), now: now(), outcome });
        };
        return await write(channel.channelId, update, release);
      } finally {
        release();
      }
    };
    return {
      payment: { method: "session", channelId: channel.channelId, challengeId: challenge.id, payer: channel.payer, units: requested, channel, usage: usageLabel(route) },
      // The charge is durable before the response leaves: a crash after this point has billed a
      // delivered response; a crash before it leaves a reservation that is released on restart.
      finish: async (status) => {
        const finished = await finish(route.billable(status) ? "committed" : "released");
        return receiptHeaders(sessionReceipt({ channel: finished, challenge, at: now(), units: requested }));
      },
      release: async () => void (await finish("released")),
    };
  }

  return authorize;
}
