import { TollgateError } from "./TollgateError.js";

/** Which of the paying client's limits a payment would break. */
export type PaymentCap =
  | "maxDeposit"
  | "maxTotalDeposit"
  | "maxPricePerUnit"
  | "maxUnitsPerRequest"
  | "maxUnitsPerStream"
  | "prepayUnits"
  | "totalBudget"
  | "currency"
  | "escrow"
  | "chain";

/** A payment was refused before anything was signed or sent, because it would break a cap. */
export class PaymentCapError extends TollgateError {
  override name = "PaymentCapError";
  readonly cap: PaymentCap;

  constructor(cap: PaymentCap, message: string) {
    super("CAP_EXCEEDED", message);
    this.cap = cap;
  }
}
