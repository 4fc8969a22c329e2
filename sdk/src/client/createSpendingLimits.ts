import { type Address, isAddressEqual } from "viem";
import { PaymentCapError } from "../errors/PaymentCapError.js";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";
import type { PaymentCaps } from "./createPaymentCaps.js";
import type { Exclusive } from "./createExclusive.js";
import type { OneTimePaymentStore } from "./methods/OneTimePayment.js";

/** Lock keys (channel keys all contain ':', these cannot clash). */
const BUDGET = "budget";
const DEPOSITS = "deposits";

export type SpendingLimits = {
  /** What this payer signed away in vouchers and one-time payments, in `token` (every token when omitted). */
  authorized(token?: Address): Promise<bigint>;
  /** What this payer signed away in one-time payments (charge, x402), in `token` (every token when omitted). */
  paid(token?: Address): Promise<bigint>;
  /** What `totalBudget` still allows in `token`; undefined when no budget is set. */
  budgetLeft(token: Address): Promise<bigint | undefined>;
  /** Throws when vouchers worth `extra` more in `token` would pass `totalBudget`. */
  assertBudget(token: Address, extra: bigint): Promise<void>;
  /**
   * Checks the budget for `extra` more and then runs `signAndSave`, one at a time when a budget is set:
   * two channels could otherwise both pass the check before either stored its voucher.
   */
  withinBudget<T>(token: Address, extra: bigint, signAndSave: () => Promise<T>): Promise<T>;
  /**
   * Checks that escrowing `amount` more in `token` keeps what channels hold beyond their vouchers within
   * `maxTotalDeposit`, then runs `escrowAndSave`,
   * which must store the channel's new deposit before it returns; deposits are checked one at a time.
   */
  withinDeposits<T>(token: Address, amount: bigint, escrowAndSave: () => Promise<T>): Promise<T>;
};

export type CreateSpendingLimitsParameters = { store: ClientChannelStore; payments: OneTimePaymentStore; caps: PaymentCaps; exclusive: Exclusive };

/** The client's running totals (vouchers and one-time payments signed, deposits escrowed) checked against its caps. */
export function createSpendingLimits({ store, payments, caps, exclusive }: CreateSpendingLimitsParameters): SpendingLimits {
  const sum = async (token: Address | undefined, include: (channel: ClientChannel) => boolean, amount: (channel: ClientChannel) => bigint) =>
    (await store.list()).filter((channel) => (token === undefined || isAddressEqual(channel.token, token)) && include(channel)).reduce((total, channel) => total + amount(channel), 0n);

  const paid = async (token?: Address) =>
    (await payments.list()).filter((payment) => token === undefined || isAddressEqual(payment.token, token)).reduce((total, payment) => total + payment.amount, 0n);
  const authorized = async (token?: Address) => (await sum(token, () => true, (channel) => channel.cumulativeAmount)) + (await paid(token));

  async function assertBudget(token: Address, extra: bigint) {
    const { totalBudget } = caps.of(token);
    if (totalBudget === undefined || extra <= 0n) return;
    const signed = await authorized(token);
    if (signed + extra > totalBudget) {
      throw new PaymentCapError("totalBudget", `Authorizing ${extra} more would pass the total budget ${totalBudget} (${signed} authorized)`);
    }
  }

  return {
    authorized,
    paid,
    async budgetLeft(token) {
      const { totalBudget } = caps.of(token);
      return totalBudget === undefined ? undefined : totalBudget - (await authorized(token));
    },
    assertBudget,
    withinBudget(token, extra, signAndSave) {
      if (caps.of(token).totalBudget === undefined) return signAndSave();
      return exclusive(BUDGET, async () => {
        await assertBudget(token, extra);
        return signAndSave();
      });
    },
    withinDeposits(token, amount, escrowAndSave) {
      return exclusive(DEPOSITS, async () => {
        const { maxTotalDeposit } = caps.of(token);
        // What a seller could keep locked: deposits not yet signed away (signed vouchers are the budget's to
        // cap). A closed channel's deposit came back; an open or abandoned one's is still held.
        const escrowed = await sum(token, (channel) => channel.status !== "closed", (channel) => channel.deposit - channel.cumulativeAmount);
        if (escrowed + amount > maxTotalDeposit) {
          throw new PaymentCapError("maxTotalDeposit", `Escrowing ${amount} more would pass the total deposit cap ${maxTotalDeposit} (${escrowed} escrowed)`);
        }
        return escrowAndSave();
      });
    },
  };
}
