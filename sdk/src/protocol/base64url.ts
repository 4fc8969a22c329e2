import { InvalidValueError } from "../errors/InvalidValueError.js";

const ALPHABET = /^[A-Za-z0-9_-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// Node's Buffer has native base64url (several times faster on a server's hot path); browsers use the
// portable code below, which produces and accepts exactly the same strings.
const NodeBuffer = (globalThis as { Buffer?: typeof import("node:buffer").Buffer }).Buffer;

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
  if (NodeBuffer !== undefined) {
    const bytes = NodeBuffer.from(value, "base64url");
    if (bytes.toString("base64url") !== value) throw new InvalidValueError("base64url", "Non-canonical base64url");
    return bytes;
  }
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Non-canonical trailing bits (e.g. "AB" for one byte) would make two spellings of one value.
  if (encodeBase64url(bytes) !== value) throw new InvalidValueError("base64url", "Non-canonical base64url");
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
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidValueError("json", "Expected UTF-8 text", { cause });
  }
}
