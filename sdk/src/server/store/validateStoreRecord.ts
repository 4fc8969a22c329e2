import type { Hex } from "viem";
import { StoreError } from "../../errors/StoreError.js";
import type { ChannelRecord, ChargeRecord } from "./SessionStore.js";

// NUMERIC(78,0) in PostgreSQL holds any uint256; amounts are uint128 on-chain, so this bound only
// catches garbage (negative or absurd values) before it reaches a database that would truncate it.
const MAX_UINT256 = (1n << 256n) - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CHANNEL_STATUSES: ReadonlySet<string> = new Set(["open", "closing", "closed"]);
const CHARGE_STATUSES: ReadonlySet<string> = new Set(["reserved", "committed", "released"]);

function invalid(message: string): StoreError {
  return new StoreError("invalid-record", message);
}

function checkUint(value: unknown, field: string): void {
  if (typeof value !== "bigint" || value < 0n || value > MAX_UINT256) throw invalid(`${field} must be a bigint in [0, 2^256)`);
}

function checkTime(value: unknown, field: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${field} must be milliseconds since the epoch`);
}

function checkAddress(value: unknown, field: string): void {
  if (typeof value !== "string" || !ADDRESS.test(value)) throw invalid(`${field} must be a 20-byte hex address`);
}

/** Whether `value` can label usage (a route name, a unit type): 1 to 128 printable ASCII characters. */
export function isUsageLabel(value: unknown): value is string {
  return typeof value === "string" && /^[\x20-\x7e]{1,128}$/.test(value);
}

function checkUsageLabel(value: unknown, field: string): void {
  if (value !== undefined && !isUsageLabel(value)) throw invalid(`${field} must be 1 to 128 printable ASCII characters`);
}

function checkNullableHex(value: unknown, field: string): void {
  if (value !== null && (typeof value !== "string" || !HEX.test(value))) throw invalid(`${field} must be hex or null`);
}

/**
 * Checks a channel record against the channel locked by `withChannel` (`channelId` is already
 * lowercase) and returns a copy with a lowercase `channelId`, so later mutations by the caller cannot
 * reach the buffered write. Addresses are kept as given: the store compares them exactly, so callers
 * should pass them in one form (checksummed, as `parseAddress` returns).
 */
export function validateChannelRecord(channelId: Hex, record: ChannelRecord): ChannelRecord {
  if (typeof record !== "object" || record === null) throw invalid("channel must be an object");
  if (typeof record.channelId !== "string" || record.channelId.toLowerCase() !== channelId) {
    throw invalid(`channel ${String(record.channelId)} written inside withChannel(${channelId})`);
  }
  if (!Number.isSafeInteger(record.chainId) || record.chainId <= 0) throw invalid("chainId must be a positive integer");
  checkAddress(record.escrow, "escrow");
  checkAddress(record.payer, "payer");
  checkAddress(record.payee, "payee");
  checkAddress(record.token, "token");
  checkAddress(record.authorizedSigner, "authorizedSigner");
  checkUint(record.deposit, "deposit");
  checkUint(record.settledOnChain, "settledOnChain");
  checkUint(record.acceptedCumulative, "acceptedCumulative");
  checkNullableHex(record.acceptedSignature, "acceptedSignature");
  checkUint(record.spent, "spent");
  checkUint(record.reserved, "reserved");
  checkUint(record.units, "units");
  checkUint(record.closeRequestedAt, "closeRequestedAt");
  if (!CHANNEL_STATUSES.has(record.status)) throw invalid(`unknown channel status ${String(record.status)}`);
  checkNullableHex(record.lastTxHash, "lastTxHash");
  checkTime(record.createdAt, "createdAt");
  checkTime(record.updatedAt, "updatedAt");
  return { ...record, channelId };
}

/** Checks a charge record against the locked channel and returns a copy with a lowercase `channelId`. */
export function validateChargeRecord(channelId: Hex, record: ChargeRecord): ChargeRecord {
  if (typeof record !== "object" || record === null) throw invalid("charge must be an object");
  if (typeof record.channelId !== "string" || record.channelId.toLowerCase() !== channelId) {
    throw invalid(`charge of channel ${String(record.channelId)} written inside withChannel(${channelId})`);
  }
  if (typeof record.key !== "string" || record.key.length === 0) throw invalid("charge key must be a non-empty string");
  checkAddress(record.payer, "payer");
  checkUint(record.amount, "amount");
  checkUint(record.units, "units");
  if (!CHARGE_STATUSES.has(record.status)) throw invalid(`unknown charge status ${String(record.status)}`);
  if (record.fingerprint !== null && (typeof record.fingerprint !== "string" || !SHA256_HEX.test(record.fingerprint))) {
    throw invalid("fingerprint must be a lowercase hex SHA-256 or null");
  }
  checkUsageLabel(record.route, "route");
  checkUsageLabel(record.unitType, "unitType");
  checkTime(record.createdAt, "createdAt");
  checkTime(record.updatedAt, "updatedAt");
  return { ...record, channelId };
}
