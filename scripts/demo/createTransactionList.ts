// The page's list of the buyer's channel transactions, each linked to the demo's explorer (/tx/<hash>),
// kept in localStorage so that, like the channel, it survives a reload.
import type { Hex } from "viem";

export type ListedTransaction = { label: string; hash: Hex };

export type CreateTransactionListParameters = {
  element: HTMLElement;
  /** One list per payer and chain. */
  storageKey: string;
  storage?: Pick<Storage, "getItem" | "setItem">;
};

export function createTransactionList({ element, storageKey, storage = localStorage }: CreateTransactionListParameters) {
  const read = () => JSON.parse(storage.getItem(storageKey) ?? "[]") as ListedTransaction[];
  function show() {
    element.replaceChildren(
      ...read().map(({ label, hash }) => {
        const item = document.createElement("li");
        const link = Object.assign(document.createElement("a"), { href: `/tx/${hash}`, target: "_blank", textContent: label });
        const code = Object.assign(document.createElement("code"), { textContent: hash });
        item.append(link, " ", code);
        return item;
      }),
    );
  }
  show();
  return {
    add(transaction: ListedTransaction) {
      storage.setItem(storageKey, JSON.stringify([...read(), transaction]));
      show();
    },
  };
}
