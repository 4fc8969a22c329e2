import type { Hex } from "viem";
import { PaymentProblemError } from "../protocol/problems.js";
import { claimIdempotencyKey, type IdempotencyBinding } from "./idempotency.js";
import type { ChannelRecord, ChannelTransaction, ChargeRecord, UsageLabel } from "./store/SessionStore.js";

/** A voucher whose signature and signer were already verified. */
export type VerifiedVoucher = { cumulativeAmount: bigint; signature: Hex };

/**
 * Steps 6–10 of the draft's voucher verification, on a channel whose signature check (steps 3–5) passed:
 * a voucher at or below `acceptedCumulative` is an idempotent replay and changes nothing; a higher one
 * must rise by at least `minVoucherDelta` and stay within the deposit.
 */
export function acceptVoucher(channel: ChannelRecord, voucher: VerifiedVoucher, minVoucherDelta: bigint): ChannelRecord {
  const { acceptedCumulative, deposit, channelId } = channel;
  if (voucher.cumulativeAmount <= acceptedCumulative) return channel;
  const delta = voucher.cumulativeAmount - acceptedCumulative;
  if (delta < minVoucherDelta) {
    throw new PaymentProblemError("delta-too-small", {
      detail: `The voucher raises the cumulative amount by ${delta}, below the minimum ${minVoucherDelta}`,
      extensions: { channelId, acceptedCumulative: acceptedCumulative.toString(), minVoucherDelta: minVoucherDelta.toString() },
    });
  }
  if (voucher.cumulativeAmount > deposit) {
    throw new PaymentProblemError("amount-exceeds-deposit", {
      detail: `The voucher's cumulative amount ${voucher.cumulativeAmount} exceeds the deposit ${deposit}`,
      extensions: { channelId, deposit: deposit.toString() },
    });
  }
  return { ...channel, acceptedCumulative: voucher.cumulativeAmount, acceptedSignature: voucher.signature };
}

/** What a channel can still pay for: accepted vouchers minus what is spent or held for requests. */
export function available(channel: ChannelRecord): bigint {
  return channel.acceptedCumulative - channel.spent - channel.reserved;
}

/** The balance problem a client answers with a higher voucher (and a top-up if it exceeds the deposit). */
export function insufficientBalance(channel: ChannelRecord, cost: bigint): PaymentProblemError {
  const requiredCumulative = channel.spent + channel.reserved + cost;
  return new PaymentProblemError("insufficient-balance", {
    detail: `This request costs ${cost}; the channel has ${available(channel)} left on accepted vouchers`,
    extensions: {
      channelId: channel.channelId,
      requiredCumulative: requiredCumulative.toString(),
      acceptedCumulative: channel.acceptedCumulative.toString(),
      deposit: channel.deposit.toString(),
    },
  });
}

export type ReserveParameters = {
  tx: ChannelTransaction;
  channel: ChannelRecord;
  key: string;
  cost: bigint;
  units: bigint;
  /** The route name and unit type the charge is recorded under. */
  usage: UsageLabel;
  now: number;
  /**
   * The request a client's Idempotency-Key is bound to. Without it the key is the gate's own (a random
   * id): no charge can hold it yet, so none is looked up.
   */
  idempotency?: IdempotencyBinding;
};

/**
 * Holds `cost` for a request under `key`. A client's key that already paid for this same request is not
 * charged again (see `claimIdempotencyKey`, which refuses any other use of it). Returns the channel as
 * it must be stored and whether this call made a new reservation.
 */
export async function reserve({ tx, channel, key, cost, units, usage, now, idempotency }: ReserveParameters): Promise<{ channel: ChannelRecord; charge: ChargeRecord; fresh: boolean }> {
  const paid = idempotency && (await claimIdempotencyKey({ tx, key, now, ...idempotency }));
  if (paid) return { channel, charge: paid, fresh: false };
  if (available(channel) < cost) throw insufficientBalance(channel, cost);
  const charge = newCharge({ channel, key, cost, units, usage, now }, "reserved", idempotency?.fingerprint ?? null);
  await tx.putCharge(charge);
  return { channel: { ...channel, reserved: channel.reserved + cost, updatedAt: now }, charge, fresh: true };
}

export type RecordHeldParameters = Omit<ReserveParameters, "idempotency"> & { outcome: "committed" | "released" };

/**
 * Records how a request admitted in process, not reserved in the store (see createChannelHolds), ended:
 * committed, its cost must still fit the channel as stored now, which other instances may have spent
 * from meanwhile. Returns the channel as it must be stored.
 */
export async function recordHeld(parameters: RecordHeldParameters): Promise<ChannelRecord> {
  const { tx, channel, cost, units, now, outcome } = parameters;
  if (outcome === "committed" && available(channel) < cost) throw insufficientBalance(channel, cost);
  await tx.putCharge(newCharge(parameters, outcome, null));
  return outcome === "committed" ? { ...channel, spent: channel.spent + cost, units: channel.units + units, updatedAt: now } : { ...channel, updatedAt: now };
}

function newCharge({ channel, key, cost, units, usage, now }: Omit<ReserveParameters, "tx" | "idempotency">, status: ChargeRecord["status"], fingerprint: string | null): ChargeRecord {
  return { channelId: channel.channelId, key, payer: channel.payer, amount: cost, units, status, fingerprint, route: usage.route, unitType: usage.unitType, createdAt: now, updatedAt: now };
}

/** Turns a reservation into a charge (`spent` grows) or gives it back; a settled charge is left alone. */
export async function finishCharge(tx: ChannelTransaction, channel: ChannelRecord, key: string, outcome: "committed" | "released", now: number): Promise<ChannelRecord> {
  const charge = await tx.getCharge(key);
  if (!charge || charge.status !== "reserved") return channel;
  await tx.putCharge({ ...charge, status: outcome, updatedAt: now });
  const reserved = channel.reserved - charge.amount;
  return outcome === "committed"
    ? { ...channel, reserved, spent: channel.spent + charge.amount, units: channel.units + charge.units, updatedAt: now }
    : { ...channel, reserved, updatedAt: now };
}
