import { formatReceipt, type PaymentReceipt } from "../../protocol/receipt.js";

/** The headers of a paid response: its `Payment-Receipt`, and `Cache-Control: private` since it answers one payer. */
export function receiptHeaders(receipt: PaymentReceipt): Record<string, string> {
  return { "payment-receipt": formatReceipt(receipt), "cache-control": "private" };
}
