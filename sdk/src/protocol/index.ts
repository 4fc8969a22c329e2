// tollgate/protocol: the Payment HTTP authentication scheme and the `evm` session method's wire formats.
export { encodeBase64url, decodeBase64url, decodeBase64urlJson } from "./base64url.js";
export { canonicalJson } from "./canonicalJson.js";
export {
  computeChallengeId,
  decodeChallengeRequest,
  encodeChallengeRequest,
  formatChallenge,
  isChallengeIdValid,
  parseChallenges,
  type ComputeChallengeIdParameters,
  type PaymentChallenge,
} from "./challenge.js";
export { formatCredential, parseCredential, type PaymentCredential } from "./credential.js";
export { formatReceipt, parseReceipt, type PaymentReceipt } from "./receipt.js";
export {
  PaymentProblemError,
  problemTypes,
  type PaymentProblemErrorParameters,
  type ProblemDetails,
  type ProblemName,
} from "./problems.js";
export {
  formatUsageAuthorization,
  getUsageTypedData,
  parseUsageAuthorization,
  USAGE_REQUEST_TTL,
  USAGE_SCHEME,
  usageRequestTypes,
  type UsageAuthorization,
  type UsageChannelJson,
  type UsageReportJson,
  type UsageRequest,
  type UsageTotalJson,
} from "./usage.js";
export * from "../session/payload.js";
export * from "../session/request.js";
