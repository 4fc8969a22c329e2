import type { Address, Hex } from "viem";
import { StoreError } from "../../errors/StoreError.js";
import { type ChannelRecord, type ChargeRecord, type PaymentCredential, type PaymentRecord, paymentKey, type SignedAuthorization } from "./SessionStore.js";

// Column order of both SQL stores' tables; the *Params functions below follow it. Amounts travel as
// decimal text in both directions: SQLite has no integer wider than 64 bits and node-postgres returns
// NUMERIC as text, and a JS number would round anything above 2^53.

export const CHANNEL_COLUMNS = [
  "channel_id",
  "chain_id",
  "escrow",
  "payer",
  "payee",
  "token",
  "authorized_signer",
  "deposit",
  "settled_on_chain",
  "accepted_cumulative",
  "accepted_signature",
  "spent",
  "reserved",
  "units",
  "close_requested_at",
  "status",
  "last_tx_hash",
  "created_at",
  "updated_at",
] as const;

export const CHARGE_COLUMNS = ["channel_id", "key", "payer", "amount", "units", "status", "fingerprint", "created_at", "updated_at", "route", "unit_type"] as const;

export const PAYMENT_COLUMNS = ["key", "chain_id", "token", "payer", "nonce", "payee", "method", "amount", "units", "status", "tx_hash", "created_at", "updated_at", "route", "unit_type", "credential", "signed_authorization"] as const;

export type SqlValue = string | number | null;

export function channelParams(channel: ChannelRecord): SqlValue[] {
  return [
    channel.channelId,
    channel.chainId,
    channel.escrow,
    channel.payer,
    channel.payee,
    channel.token,
    channel.authorizedSigner,
    channel.deposit.toString(),
    channel.settledOnChain.toString(),
    channel.acceptedCumulative.toString(),
    channel.acceptedSignature,
    channel.spent.toString(),
    channel.reserved.toString(),
    channel.units.toString(),
    channel.closeRequestedAt.toString(),
    channel.status,
    channel.lastTxHash,
    channel.createdAt,
    channel.updatedAt,
  ];
}

const CHARGE_STATUSES: readonly ChargeRecord["status"][] = ["reserved", "committed", "released"];

/**
 * A charge status as an SQL literal, for `listCharges`: the planner uses a partial index (reservations by
 * `updated_at`) only when the query names its status, which a bound parameter does not.
 */
export function chargeStatusSql(status: ChargeRecord["status"]): string {
  if (!CHARGE_STATUSES.includes(status)) throw new StoreError("misuse", `Unknown charge status ${JSON.stringify(status)}`);
  return `'${status}'`;
}

export function chargeParams(charge: ChargeRecord): SqlValue[] {
  return [
    charge.channelId,
    charge.key,
    charge.payer,
    charge.amount.toString(),
    charge.units.toString(),
    charge.status,
    charge.fingerprint,
    charge.createdAt,
    charge.updatedAt,
    charge.route ?? null,
    charge.unitType ?? null,
  ];
}

/** A channel record as its row reads back: exactly the stored fields (a caller's extra members are not stored). */
export function storedChannel(channel: ChannelRecord): ChannelRecord {
  return {
    channelId: channel.channelId,
    chainId: channel.chainId,
    escrow: channel.escrow,
    payer: channel.payer,
    payee: channel.payee,
    token: channel.token,
    authorizedSigner: channel.authorizedSigner,
    deposit: channel.deposit,
    settledOnChain: channel.settledOnChain,
    acceptedCumulative: channel.acceptedCumulative,
    acceptedSignature: channel.acceptedSignature,
    spent: channel.spent,
    reserved: channel.reserved,
    units: channel.units,
    closeRequestedAt: channel.closeRequestedAt,
    status: channel.status,
    lastTxHash: channel.lastTxHash,
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}

/** A charge record as its row reads back (see `storedChannel`). */
export function storedCharge(charge: ChargeRecord): ChargeRecord {
  return {
    channelId: charge.channelId,
    key: charge.key,
    payer: charge.payer,
    amount: charge.amount,
    units: charge.units,
    status: charge.status,
    fingerprint: charge.fingerprint,
    ...(charge.route == null ? {} : { route: charge.route }),
    ...(charge.unitType == null ? {} : { unitType: charge.unitType }),
    createdAt: charge.createdAt,
    updatedAt: charge.updatedAt,
  };
}

type Row = Record<string, unknown>;

// BIGINT columns come back as text from node-postgres and as numbers from SQLite; Number() takes both.
export function channelFromRow(row: Row): ChannelRecord {
  return {
    channelId: row.channel_id as Hex,
    chainId: Number(row.chain_id),
    escrow: row.escrow as Address,
    payer: row.payer as Address,
    payee: row.payee as Address,
    token: row.token as Address,
    authorizedSigner: row.authorized_signer as Address,
    deposit: BigInt(row.deposit as string),
    settledOnChain: BigInt(row.settled_on_chain as string),
    acceptedCumulative: BigInt(row.accepted_cumulative as string),
    acceptedSignature: (row.accepted_signature as Hex | null) ?? null,
    spent: BigInt(row.spent as string),
    reserved: BigInt(row.reserved as string),
    units: BigInt(row.units as string),
    closeRequestedAt: BigInt(row.close_requested_at as string),
    status: row.status as ChannelRecord["status"],
    lastTxHash: (row.last_tx_hash as Hex | null) ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function chargeFromRow(row: Row): ChargeRecord {
  return {
    channelId: row.channel_id as Hex,
    key: row.key as string,
    payer: row.payer as Address,
    amount: BigInt(row.amount as string),
    units: BigInt(row.units as string),
    status: row.status as ChargeRecord["status"],
    fingerprint: (row.fingerprint as string | null) ?? null,
    ...usageLabelFromRow(row),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function paymentParams(payment: PaymentRecord): SqlValue[] {
  return [
    paymentKey(payment),
    payment.chainId,
    payment.token,
    payment.payer,
    payment.nonce,
    payment.payee,
    payment.method,
    payment.amount.toString(),
    payment.units.toString(),
    payment.status,
    payment.txHash,
    payment.createdAt,
    payment.updatedAt,
    payment.route ?? null,
    payment.unitType ?? null,
    payment.credential ?? null,
    payment.signedAuthorization ? JSON.stringify(payment.signedAuthorization, (_, value) => (typeof value === "bigint" ? value.toString() : value)) : null,
  ];
}

export function paymentFromRow(row: Row): PaymentRecord {
  return {
    chainId: Number(row.chain_id),
    token: row.token as Address,
    payer: row.payer as Address,
    nonce: row.nonce as Hex,
    payee: row.payee as Address,
    method: row.method as PaymentRecord["method"],
    ...(row.credential == null ? {} : { credential: row.credential as PaymentCredential }),
    amount: BigInt(row.amount as string),
    units: BigInt(row.units as string),
    status: row.status as PaymentRecord["status"],
    txHash: (row.tx_hash as Hex | null) ?? null,
    ...usageLabelFromRow(row),
    ...(row.signed_authorization == null ? {} : { signedAuthorization: signedAuthorizationFromText(row.signed_authorization as string) }),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function signedAuthorizationFromText(text: string): SignedAuthorization {
  const { validAfter, validBefore, signature } = JSON.parse(text) as Record<string, string>;
  return { validAfter: BigInt(validAfter!), validBefore: BigInt(validBefore!), signature: signature as Hex };
}

/** `route` and `unitType` of a schema-4 row; rows stored before have neither (null columns). */
function usageLabelFromRow(row: Row): { route?: string; unitType?: string } {
  return {
    ...(row.route == null ? {} : { route: row.route as string }),
    ...(row.unit_type == null ? {} : { unitType: row.unit_type as string }),
  };
}
