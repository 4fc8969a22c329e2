import { type Address, getAddress, isAddress } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";

/**
 * Parses a 20-byte address and returns it EIP-55 checksummed. All-lowercase input is accepted; mixed
 * case must carry a valid checksum, which catches most typos.
 */
export function parseAddress(value: unknown): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: true })) {
    throw new InvalidValueError("address", "Expected a 20-byte hex address with a valid checksum");
  }
  return getAddress(value);
}
