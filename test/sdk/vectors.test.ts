// Checks the SDK against test/vectors/escrow.json, which the contract side generates from the escrow
// itself: every entry is checked, and a missing or empty section fails rather than passing vacuously.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { Address, Hex } from "viem";
import { computeChannelId, getVoucherDigest, getVoucherDomainSeparator, parseAmount } from "../../sdk/src/index.js";

type Vectors = {
  vouchers: { chainId: number; escrow: Address; channelId: Hex; cumulativeAmount: string; digest: Hex }[];
  channelIds: {
    chainId: number;
    escrow: Address;
    payer: Address;
    payee: Address;
    token: Address;
    salt: Hex;
    authorizedSigner: Address;
    channelId: Hex;
  }[];
  domainSeparators: { chainId: number; escrow: Address; domainSeparator: Hex }[];
};

const file = new URL("../vectors/escrow.json", import.meta.url);
const vectors: Vectors = JSON.parse(
  await readFile(file, "utf8").catch((error: unknown) => {
    throw new Error(`test/vectors/escrow.json is missing: the contract side generates it`, { cause: error });
  }),
);

describe("shared test vectors (test/vectors/escrow.json)", () => {
  for (const section of ["vouchers", "channelIds", "domainSeparators"] as const) {
    it(`has ${section}`, () => {
      assert.ok(Array.isArray(vectors[section]) && vectors[section].length > 0, `${section} is empty`);
    });
  }

  it("voucher digests match", () => {
    vectors.vouchers.forEach(({ chainId, escrow, channelId, cumulativeAmount, digest }, index) => {
      const actual = getVoucherDigest({ chainId, escrow, channelId, cumulativeAmount: parseAmount(cumulativeAmount) });
      assert.equal(actual, digest.toLowerCase(), `vouchers[${index}]`);
    });
  });

  it("channel ids match", () => {
    vectors.channelIds.forEach(({ channelId, ...parameters }, index) => {
      assert.equal(computeChannelId(parameters), channelId.toLowerCase(), `channelIds[${index}]`);
    });
  });

  it("domain separators match", () => {
    vectors.domainSeparators.forEach(({ chainId, escrow, domainSeparator }, index) => {
      assert.equal(getVoucherDomainSeparator({ chainId, escrow }), domainSeparator.toLowerCase(), `domainSeparators[${index}]`);
    });
  });
});
