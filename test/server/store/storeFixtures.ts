import type { Address, Hex } from "viem";
import type { ChannelRecord, ChargeRecord, SessionStore } from "../../../sdk/src/server/store/index.js";

export const MAX_UINT128 = (1n << 128n) - 1n;

export const PAYER_A = "0x1111111111111111111111111111111111111111" as Address;
export const PAYER_B = "0x2222222222222222222222222222222222222222" as Address;
export const PAYEE_A = "0xAaAaaAAaAAaaaAAAAaAaaAaAAAAAAAAaaAAaaAaa" as Address;
export const PAYEE_B = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" as Address;

let counter = 0;

/** A fresh lowercase channel id, distinct across calls and across processes sharing a database. */
export function newChannelId(): Hex {
  counter += 1;
  const unique = `${process.pid.toString(16)}${Date.now().toString(16)}${counter.toString(16)}${Math.random().toString(16).slice(2)}`;
  return `0x${unique.replace(/[^0-9a-f]/g, "").padEnd(64, "0").slice(0, 64)}` as Hex;
}

export function makeChannel(channelId: Hex, overrides: Partial<ChannelRecord> = {}): ChannelRecord {
  return {
    channelId,
    chainId: 8453,
    escrow: "0x3333333333333333333333333333333333333333",
    payer: PAYER_A,
    payee: PAYEE_A,
    token: "0x4444444444444444444444444444444444444444",
    authorizedSigner: "0x0000000000000000000000000000000000000000",
    deposit: 1_000_000n,
    settledOnChain: 0n,
    acceptedCumulative: 0n,
    acceptedSignature: null,
    spent: 0n,
    reserved: 0n,
    units: 0n,
    closeRequestedAt: 0n,
    status: "open",
    lastTxHash: null,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function makeCharge(channelId: Hex, key: string, overrides: Partial<ChargeRecord> = {}): ChargeRecord {
  return {
    channelId,
    key,
    payer: PAYER_A,
    amount: 10n,
    units: 1n,
    status: "reserved",
    fingerprint: null,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

/**
 * One charge request as the gate makes it: add 1 to the channel's `spent` and record a committed
 * charge of 1 in the same transaction, so a torn write would show as spent ≠ number of charges.
 * The charge's `units` is the new `spent`, a sequence number that shows the order transactions ran in.
 */
export async function incrementSpent(
  store: SessionStore,
  channelId: Hex,
  key: string,
  { pause }: { pause?: () => Promise<void> } = {},
): Promise<bigint> {
  return store.withChannel(channelId, async (tx) => {
    const current = tx.channel ?? makeChannel(channelId);
    await pause?.();
    const spent = current.spent + 1n;
    await tx.putCharge(makeCharge(channelId, key, { amount: 1n, units: spent, status: "committed", updatedAt: Date.now() }));
    await tx.putChannel({ ...current, spent, updatedAt: Date.now() });
    return spent;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
