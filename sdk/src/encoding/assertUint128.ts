import { maxUint128 } from "viem";
import { InvalidValueError } from "../errors/InvalidValueError.js";

/** Amounts are `uint128` on-chain; anything outside is rejected before hashing or signing. */
export function assertUint128(amount: bigint): void {
  if (typeof amount !== "bigint" || amount < 0n || amount > maxUint128) {
    throw new InvalidValueError("amount", "Amount must be a bigint from 0 to 2^128 - 1");
  }
}
