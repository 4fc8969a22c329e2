import type { ClosePayload, SessionPayload } from "../../../session/payload.js";
import { acceptVoucher, finishCharge, reserve } from "../../accounting.js";
import { requestChargeKey } from "../../idempotency.js";
import type { ChannelRecord, UsageLabel } from "../../store/SessionStore.js";
import { admitFunding } from "./admitFunding.js";
import { assertAdmissible } from "./assertAdmissible.js";
import { assertContractSignerCredit } from "./contractSignerCredit.js";
import type { ChannelRecords } from "./createChannelRecords.js";
import type { createFunding } from "./createFunding.js";
import type { RememberedSigners } from "./createRememberedSigners.js";
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

/** An admitted request: the channel as stored, whether this request made a new reservation, and its key. */
export type Admitted = { channel: ChannelRecord; fresh: boolean; key: string };

export type AdmissionDependencies = {
  funding: ReturnType<typeof createFunding>;
  records: ChannelRecords;
  signers: RememberedSigners;
  verifySignature: VerifyVoucherSignature;
};

/**
 * Verifies a credential's funding and voucher, then in one transaction accepts the voucher and holds
 * (or, in charge mode, charges) the request's cost. A plain voucher on a channel this gate stored before
 * is first tried from the channel's remembered signer, checked against the channel as the transaction
 * reads it; what needs more (a deposit that may have grown on-chain, a channel the store lost) starts
 * over from the store and the chain.
 */
export function createAdmission(context: SessionContext, dependencies: AdmissionDependencies) {
  const { store, now, chargeMode, idempotencyKeyTtl, contractSignerCredit } = context;
  const { records, signers, verifySignature } = dependencies;

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
    const admitted = await store.withChannel(signer.channelId, async (tx) => {
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
      if (cost > 0n) ({ channel: current, fresh } = await reserve({ tx, channel: current, ...charge, cost, units: requested, usage: parameters.usage, now: now() }));
      if (fresh && chargeMode === "charge") current = await finishCharge(tx, current, charge.key, "committed", now());
      await tx.putChannel(current);
      return { channel: current, fresh, key: charge.key };
    });
    signers.remember(admitted.channel);
    return admitted;
  }

  return async function admit(parameters: AdmitParameters): Promise<Admitted> {
    try {
      return await attempt(parameters, true);
    } catch (error) {
      if (error !== RETRY_FROM_STORE) throw error;
      return attempt(parameters, false);
    }
  };
}
