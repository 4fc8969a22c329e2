import { InvalidValueError } from "../errors/InvalidValueError.js";

/** ERC-20 `decimals()` is a uint8. */
export function assertDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) {
    throw new InvalidValueError("decimals", "Token decimals must be an integer from 0 to 255");
  }
}
