// The protocol's base64url on Node goes through Buffer (a hot path of the gate: every credential and
// receipt). These checks hold it to RFC 4648 §5 without padding, exactly as the portable code it
// replaces on Node: one spelling per byte string, everything else refused.
import assert from "node:assert/strict";
import { decodeBase64url, decodeBase64urlJson, encodeBase64url } from "../../sdk/src/protocol/base64url.js";
import { InvalidValueError } from "../../sdk/src/errors/InvalidValueError.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** RFC 4648 §5, unpadded, bit by bit. */
function reference(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = [bytes[i]!, bytes[i + 1] ?? 0, bytes[i + 2] ?? 0];
    const n = (chunk[0]! << 16) | (chunk[1]! << 8) | chunk[2]!;
    const chars = [18, 12, 6, 0].map((shift) => ALPHABET[(n >> shift) & 63]);
    out += chars.slice(0, Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6))).join("");
  }
  return out;
}

describe("protocol: base64url", function () {
  it("test_base64url_encodesAndDecodesEveryLengthExactlyAsRfc4648", function () {
    for (let length = 0; length <= 96; length++) {
      for (let trial = 0; trial < 8; trial++) {
        const bytes = crypto.getRandomValues(new Uint8Array(length));
        const encoded = encodeBase64url(bytes);
        assert.equal(encoded, reference(bytes));
        assert.deepEqual(new Uint8Array(decodeBase64url(encoded)), bytes);
        // A view into a larger buffer encodes only its own bytes.
        const padded = new Uint8Array(length + 7);
        padded.set(bytes, 3);
        assert.equal(encodeBase64url(padded.subarray(3, 3 + length)), encoded);
      }
    }
    assert.equal(encodeBase64url("héllo ✓"), reference(new TextEncoder().encode("héllo ✓")));
  });

  it("test_base64url_acceptsALastCharacterExactlyWhenItsUnusedBitsAreZero", function () {
    // Every last character after every length of prefix: accepted exactly when re-encoding the bytes
    // gives the string back (the one canonical spelling), and then decoded to those bytes.
    for (const prefix of ["", "AA", "AAA", "AAAA", "QUJD", "QUJDRA"]) {
      for (const char of ALPHABET) {
        const value = `${prefix}${char}`;
        if (value.length % 4 === 1) continue;
        const canonical = reference(new Uint8Array(Buffer.from(value, "base64url"))) === value;
        if (canonical) assert.equal(encodeBase64url(decodeBase64url(value)), value);
        else assert.throws(() => decodeBase64url(value), InvalidValueError, value);
      }
    }
  });

  it("test_base64url_jsonDropsALeadingByteOrderMarkAndRefusesInvalidUtf8", function () {
    assert.deepEqual(decodeBase64urlJson(encodeBase64url("\ufeff{\"a\":\"\u00e9\ud83d\ude00\"}")), { a: "é😀" });
    // An overlong encoding and a lone surrogate are not UTF-8.
    for (const bytes of [[0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22]]) {
      assert.throws(() => decodeBase64urlJson(encodeBase64url(new Uint8Array(bytes))), InvalidValueError);
    }
  });

  it("test_base64url_refusesEverySpellingButTheCanonicalOne", function () {
    const json = JSON.stringify({ a: 1 }); // 7 bytes: the last character carries unused bits
    const canonical = encodeBase64url(json);
    assert.deepEqual(decodeBase64urlJson(canonical), { a: 1 });
    const last = ALPHABET.indexOf(canonical.at(-1)!);
    const refused = [
      `${canonical}=`, // padding
      `${canonical.slice(0, -1)}${ALPHABET[last + 1]}`, // non-zero unused bits
      canonical.replace(/-/g, "+").replace(/_/g, "/") + "+", // standard alphabet
      `${canonical} `,
      ` ${canonical}`,
      `${canonical}\n`,
      "A", // a length no encoding produces
      `${canonical.slice(0, 4)}.${canonical.slice(4)}`,
    ];
    for (const value of refused) {
      assert.throws(() => decodeBase64url(value), InvalidValueError, JSON.stringify(value));
    }
    assert.throws(() => decodeBase64urlJson(encodeBase64url(new Uint8Array([0x22, 0xff, 0x22]))), InvalidValueError, "invalid UTF-8");
    assert.throws(() => decodeBase64urlJson(encodeBase64url("{")), InvalidValueError, "not JSON");
  });
});
