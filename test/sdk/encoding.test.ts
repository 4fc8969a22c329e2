import assert from "node:assert/strict";
import { maxUint128 } from "viem";
import {
  formatTokenAmount,
  InvalidValueError,
  parseAddress,
  parseAmount,
  parseBytes32,
  parseHex,
  parseSignatureHex,
  parseTokenAmount,
  TollgateError,
} from "../../sdk/src/index.js";

function assertInvalid(run: () => unknown, kind: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidValueError, `expected InvalidValueError, got ${String(error)}`);
    assert.ok(error instanceof TollgateError);
    assert.equal(error.code, "INVALID_VALUE");
    assert.equal(error.kind, kind);
    return true;
  });
}

describe("wire value parsers", () => {
  it("parseHex lowercases and rejects anything but 0x-prefixed whole bytes", () => {
    assert.equal(parseHex("0xABcd"), "0xabcd");
    assert.equal(parseHex("0x"), "0x");
    for (const bad of ["abcd", "0xabc", "0xgg", "0X12", " 0x12", 12, null, undefined]) assertInvalid(() => parseHex(bad), "hex");
  });

  it("parseBytes32 wants exactly 32 bytes", () => {
    const value = `0x${"Ab".repeat(32)}`;
    assert.equal(parseBytes32(value), value.toLowerCase());
    assertInvalid(() => parseBytes32(`0x${"ab".repeat(31)}`), "bytes32");
    assertInvalid(() => parseBytes32(`0x${"ab".repeat(33)}`), "bytes32");
    assertInvalid(() => parseBytes32("0xzz"), "hex");
  });

  it("parseAddress checksums, accepts lowercase, rejects a bad checksum", () => {
    const checksummed = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
    assert.equal(parseAddress(checksummed.toLowerCase()), checksummed);
    assert.equal(parseAddress(checksummed), checksummed);
    // One letter's case flipped: a typo the checksum exists to catch.
    assertInvalid(() => parseAddress("0x833589FCD6eDb6E08f4c7C32D4f71b54bdA02913"), "address");
    assertInvalid(() => parseAddress("0x833589fcd6edb6e08f4c7c32d4f71b54bda029"), "address");
    assertInvalid(() => parseAddress(42), "address");
  });

  it("parseAmount accepts only canonical decimal strings up to uint128", () => {
    assert.equal(parseAmount("0"), 0n);
    assert.equal(parseAmount("250000"), 250_000n);
    assert.equal(parseAmount(maxUint128.toString()), maxUint128);
    const rejected = ["-1", "+1", "1.5", "1e6", "01", "00", "", " 1", "1 ", "0x10", "١", (maxUint128 + 1n).toString(), "9".repeat(40), 1, 1n];
    for (const bad of rejected) assertInvalid(() => parseAmount(bad), "amount");
  });

  it("parseSignatureHex wants 65 bytes and lowercases", () => {
    const signature = `0x${"AB".repeat(64)}1b`;
    assert.equal(parseSignatureHex(signature), signature.toLowerCase());
    assertInvalid(() => parseSignatureHex(`0x${"ab".repeat(64)}`), "signature");
    assertInvalid(() => parseSignatureHex(`0x${"ab".repeat(66)}`), "signature");
  });
});

describe("token amounts", () => {
  it("parseTokenAmount converts whole tokens to base units exactly", () => {
    assert.equal(parseTokenAmount({ value: "1.5", decimals: 6 }), 1_500_000n);
    assert.equal(parseTokenAmount({ value: "0.000001", decimals: 6 }), 1n);
    assert.equal(parseTokenAmount({ value: "12", decimals: 6 }), 12_000_000n);
    assert.equal(parseTokenAmount({ value: "1.50", decimals: 6 }), 1_500_000n);
    assert.equal(parseTokenAmount({ value: "7", decimals: 0 }), 7n);
    // Beyond float precision: bigint arithmetic keeps every digit.
    assert.equal(parseTokenAmount({ value: "123456789012.123456789012345678", decimals: 18 }), 123456789012123456789012345678n);
  });

  it("parseTokenAmount refuses to round and rejects malformed input", () => {
    assertInvalid(() => parseTokenAmount({ value: "0.0000001", decimals: 6 }), "amount");
    for (const value of ["-1", ".5", "1.", "01.5", "1,5", "1e3", ""]) assertInvalid(() => parseTokenAmount({ value, decimals: 6 }), "amount");
    assertInvalid(() => parseTokenAmount({ value: "1", decimals: 1.5 }), "decimals");
    assertInvalid(() => parseTokenAmount({ value: "1", decimals: 256 }), "decimals");
    assertInvalid(() => parseTokenAmount({ value: (maxUint128 + 1n).toString(), decimals: 0 }), "amount");
  });

  it("formatTokenAmount is the inverse, without trailing zeros", () => {
    assert.equal(formatTokenAmount({ amount: 1_500_000n, decimals: 6 }), "1.5");
    assert.equal(formatTokenAmount({ amount: 1n, decimals: 6 }), "0.000001");
    assert.equal(formatTokenAmount({ amount: 0n, decimals: 6 }), "0");
    assert.equal(formatTokenAmount({ amount: 12_000_000n, decimals: 6 }), "12");
    assert.equal(formatTokenAmount({ amount: 7n, decimals: 0 }), "7");
    assertInvalid(() => formatTokenAmount({ amount: -1n, decimals: 6 }), "amount");
    for (const amount of [0n, 1n, 999_999n, 1_000_000n, 123_456_789n, maxUint128]) {
      const text = formatTokenAmount({ amount, decimals: 6 });
      assert.equal(parseTokenAmount({ value: text, decimals: 6 }), amount);
    }
  });
});
