import { PaymentProblemError } from "../../../protocol/problems.js";
import { acceptVoucher, available } from "../../accounting.js";
import { generatedChargeKey } from "../../idempotency.js";
import type { ChannelRecord } from "../../store/SessionStore.js";
import { isAdmissible } from "./assertAdmissible.js";
import type { ChannelHolds } from "./createChannelHolds.js";
import type { Admitted, AdmitParameters } from "./createAdmission.js";
import type { VerifyVoucherSignature } from "./verifyVoucherSignature.js";

export type AdmitFromViewParameters = AdmitParameters & { holds: ChannelHolds; verifySignature: VerifyVoucherSignature };

/**
 * Admits a plain voucher on a channel this process knows, from its view (see createChannelHolds), with no
 * store round trip: the draft's voucher checks against the view, then the cost held in process. Resolves
 * undefined for anything the view cannot answer alone — an Idempotency-Key header (its claim is stored), a
 * deposit, a voucher beyond the deposit seen here, a contract wallet's voucher (its credit is counted in
 * the store), a channel closing, a balance too short or a raise too small (the store may know better,
 * and gives the refusal) — which the store-backed admission then handles.
 */
export async function admitFromView(parameters: AdmitFromViewParameters): Promise<Admitted | undefined> {
  const { request, payload, requested, amount, minVoucherDelta, holds, verifySignature } = parameters;
  const cost = amount * requested;
  // A keyed request's body is read only once its credential verified (by the store-backed admission).
  if (payload.action !== "voucher" || payload.deposit !== undefined || cost === 0n || request.headers.has("idempotency-key")) return undefined;
  const seen = holds.view(payload.channelId);
  if (seen === undefined) return undefined;
  const voucher = { cumulativeAmount: payload.cumulativeAmount, signature: payload.signature };
  if (await verifySignature(seen, voucher)) return undefined;
  // Read again: other requests may have been admitted on the channel while the signature was checked.
  const channel = holds.view(payload.channelId);
  if (channel === undefined || !isAdmissible(channel) || voucher.cumulativeAmount > channel.deposit) return undefined;
  let accepted: ChannelRecord;
  try {
    accepted = acceptVoucher(channel, voucher, minVoucherDelta);
  } catch (error) {
    if (error instanceof PaymentProblemError) return undefined;
    throw error;
  }
  if (available(accepted) < cost) return undefined;
  const release = holds.hold(channel.channelId, voucher, cost);
  return { channel: { ...accepted, reserved: accepted.reserved + cost }, fresh: true, key: generatedChargeKey(), held: { voucher, cost, release } };
}
