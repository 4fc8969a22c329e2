import { InvalidValueError } from "../errors/InvalidValueError.js";

/** Chain ids travel as JSON numbers (spec "Encoding Conventions"), so they must be positive safe integers. */
export function assertChainId(chainId: number): void {
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new InvalidValueError("chainId", "Chain id must be a positive safe integer");
  }
}
