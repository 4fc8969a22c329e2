import { PaymentProblemError } from "../../../protocol/problems.js";
import type { ClosePayload, SessionPayload } from "../../../session/payload.js";
import { acceptVoucher, finishCharge, reserve, type VerifiedVoucher } from "../../accounting.js";
import { requestChargeKey } from "../../idempotency.js";
import type { ChannelRecord, UsageLabel } from "../../store/SessionStore.js";
import { admitFromView } from "./admitFromView.js";
import { admitFunding } from "./admitFunding.js";
import { assertAdmissible } from "./assertAdmissible.js";
import { assertContractSignerCredit } from "./contractSignerCredit.js";
import type { ChannelHolds } from "./createChannelHolds.js";
import type { ChannelRecords } from "./createChannelRecords.js";
import type { createFunding } from "./createFunding.js";
import type { SessionContext } from "./SessionContext.js";
import type { VerifyVoucherSignature } from "./verifyVoucherSignature.js";

/** Thrown inside an admission that started from a remembered signer but needs the full slow path. */
const RETRY_FROM_STORE = Symbol("retry from the stored channel");

export type AdmitParameters = {
  request: Request;
  payload: Exclude<SessionPayload, ClosePayload>;
  source: string | undefined;
  /** Units this request is charged for (0 for management credentials and metered streams). */
  requested: bigint;
  /** The route's prices in base units, and its canonical request (an Idempotency-Key binds to it). */
  amount: bigint;
  minVoucherDelta: bigint;
  minRelayedDeposit: bigint;
  route: string;
  /** The route name and unit type the request's charge is recorded under. */
  usage: UsageLabel;
};

/**
 * An admitted request: the channel as stored (or, `held`, as this process sees it), whether this request
 * made a new reservation, and its charge key. `held`: admitted in process, nothing stored yet; its voucher
 * and cost are stored with its charge, and `release` ends its hold (see ChannelHolds.hold).
 */
export type Admitted = { channel: ChannelRecord; fresh: boolean; key: string; held?: { voucher: VerifiedVoucher; cost: bigint; release(): void } };

export type AdmissionDependencies = {
  funding: ReturnType<typeof createFunding>;
  records: ChannelRecords;
  holds: ChannelHolds;
  verifySignature: VerifyVoucherSignature;
};

/**
 * Verifies a credential's funding and voucher, and holds (or, in charge mode, charges) the request's cost.
 * In reserve mode a plain voucher on a channel this process knows is admitted from its view, in process
 * (see admitFromView). Otherwise one transaction accepts the voucher and reserves the cost: a plain voucher
 * on a channel this gate stored before is first tried from the channel's known signer, checked against the
 * channel as the transaction reads it; what needs more (a deposit that may have grown on-chain, a channel
 * the store lost) starts over from the store and the chain.
 */
export function createAdmission(context: SessionContext, dependencies: AdmissionDependencies) {
  const { store, now, chargeMode, idempotencyKeyTtl, contractSignerCredit } = context;
  const { records, holds, verifySignature } = dependencies;

  async function attempt(parameters: AdmitParameters, useStoredSigner: boolean): Promise<Admitted> {
    const { request, payload, requested, amount, minVoucherDelta } = parameters;
    const funded = await admitFunding({ ...parameters, ...dependencies, useStoredSigner });
    const { voucher, signer } = funded;
    let record = funded.record;
    let contractSigned = false;
    if (voucher) {
      // A funding step that verified the voucher says so: the signer is not asked twice.
      contractSigned = funded.contractSigned ?? (await verifySignature(signer, voucher));
      if (record) record = await records.refreshDeposit(record, voucher.cumulativeAmount);
    }
    const cost = amount * requested;
    // Only now, with the credential verified, is a keyed request's body read (from a clone) and hashed.
    const charge = await requestChargeKey({ request, channelId: signer.channelId, route: parameters.route, units: requested, cost, ttl: idempotencyKeyTtl });
    // A failed write leaves this process's view of the channel unknown: the next request reads the store.
    const forget = (error: unknown) => {
      if (!(error instanceof PaymentProblemError)) holds.forget(signer.channelId);
      throw error;
    };
    return store.withChannel(signer.channelId, async (tx) => {
      let current = tx.channel ?? record;
      if (current === undefined) throw RETRY_FROM_STORE;
      // Every action (open, topUp, voucher, voucher with a deposit), on the channel as locked here.
      assertAdmissible(current);
      if (record === undefined) {
        // A voucher beyond the stored deposit needs the slow path's fresh read of the chain.
        if (voucher && voucher.cumulativeAmount > current.deposit) throw RETRY_FROM_STORE;
      } else if (record.deposit > current.deposit) {
        // A deposit read from the chain for this voucher (deposits only grow).
        current = { ...current, deposit: record.deposit, updatedAt: now() };
      }
      if (contractSigned) assertContractSignerCredit({ channel: current, cost, credit: contractSignerCredit });
      if (voucher) current = acceptVoucher(current, voucher, minVoucherDelta);
      let fresh = false;
      if (cost > 0n) {
        // What this process holds on the channel in flight is spoken for, though the store cannot see it.
        const held = holds.held(current.channelId);
        const seen = { ...current, reserved: current.reserved + held };
        ({ channel: current, fresh } = await reserve({ tx, channel: seen, ...charge, cost, units: requested, usage: parameters.usage, now: now() }));
        current = { ...current, reserved: current.reserved - held };
      }
      if (fresh && chargeMode === "charge") current = await finishCharge(tx, current, charge.key, "committed", now());
      await tx.putChannel(current);
      holds.stored(current);
      return { channel: current, fresh, key: charge.key };
    }).catch(forget);
  }

  return async function admit(parameters: AdmitParameters): Promise<Admitted> {
    if (chargeMode === "reserve") {
      const held = await admitFromView({ ...parameters, holds, verifySignature });
      if (held) return held;
    }
    try {
      return await attempt(parameters, true);
    } catch (error) {
      if (error !== RETRY_FROM_STORE) throw error;
      return attempt(parameters, false);
    }
  };
}
