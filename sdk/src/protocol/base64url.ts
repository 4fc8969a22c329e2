import { InvalidValueError } from "../errors/InvalidValueError.js";

const ALPHABET = /^[A-Za-z0-9_-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// Node's Buffer has native base64url (several times faster on a server's hot path); browsers use the
// portable code below, which produces and accepts exactly the same strings.
const NodeBuffer = (globalThis as { Buffer?: typeof import("node:buffer").Buffer }).Buffer;
// Node's native UTF-8 check: with it a credential's bytes become text without a TextDecoder pass.
const isUtf8 = (globalThis.process?.getBuiltinModule?.("node:buffer") as typeof import("node:buffer") | undefined)?.isUtf8;
/** The 6-bit value of each base64url character, by char code. */
const SEXTETS = new Uint8Array(128);
for (const [index, char] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"].entries()) SEXTETS[char.charCodeAt(0)] = index;

/** Base64url without padding (RFC 4648 §5) of a UTF-8 string or of bytes. */
export function encodeBase64url(value: string | Uint8Array): string {
  if (NodeBuffer !== undefined) {
    const buffer = typeof value === "string" ? NodeBuffer.from(value, "utf8") : NodeBuffer.from(value.buffer, value.byteOffset, value.byteLength);
    return buffer.toString("base64url");
  }
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decodes unpadded base64url strictly: any character outside the alphabet, padding, or a length that
 * no encoding produces is rejected (lenient decoders silently drop such characters).
 */
export function decodeBase64url(value: string): Uint8Array {
  if (!ALPHABET.test(value) || value.length % 4 === 1) {
    throw new InvalidValueError("base64url", "Expected unpadded base64url");
  }
  // Non-canonical trailing bits (e.g. "AB" for one byte) would make two spellings of one value: the
  // bits of the last character past the final byte must be zero.
  const rest = value.length % 4;
  const unused = rest === 2 ? 0x0f : rest === 3 ? 0x03 : 0;
  if ((SEXTETS[value.charCodeAt(value.length - 1)]! & unused) !== 0) throw new InvalidValueError("base64url", "Non-canonical base64url");
  if (NodeBuffer !== undefined) return NodeBuffer.from(value, "base64url");
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decodes base64url, then UTF-8 (invalid sequences rejected), then JSON. */
export function decodeBase64urlJson(value: string): unknown {
  const text = decodeUtf8(decodeBase64url(value));
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidValueError("json", "Expected JSON", { cause });
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  if (isUtf8 !== undefined && NodeBuffer !== undefined && NodeBuffer.isBuffer(bytes)) {
    if (!isUtf8(bytes)) throw new InvalidValueError("json", "Expected UTF-8 text");
    const text = bytes.toString("utf8");
    // As TextDecoder does: a leading byte order mark is not part of the text.
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidValueError("json", "Expected UTF-8 text", { cause });
  }
}
