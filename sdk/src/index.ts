// tollgate: vouchers, channels and escrow transactions for pay-as-you-go HTTP APIs (MPP `evm` session).

// Errors
export { TollgateError, type TollgateErrorCode, type TollgateErrorOptions } from "./errors/TollgateError.js";
export { InvalidValueError, type InvalidValueKind } from "./errors/InvalidValueError.js";
export { ConfigurationError } from "./errors/ConfigurationError.js";
export { ContractRevertedError, type ContractRevertedErrorParameters } from "./errors/ContractRevertedError.js";
export { TransactionOutcomeUnknownError } from "./errors/TransactionOutcomeUnknownError.js";
export { TransactionReplacedError } from "./errors/TransactionReplacedError.js";
export { ApprovalFailedError } from "./errors/ApprovalFailedError.js";
export { TransactionSubmissionError } from "./errors/TransactionSubmissionError.js";
export { RpcError } from "./errors/RpcError.js";
export { DeploymentNotFoundError } from "./errors/DeploymentNotFoundError.js";

// Wire values
export { parseHex } from "./encoding/parseHex.js";
export { parseBytes32 } from "./encoding/parseBytes32.js";
export { parseAddress } from "./encoding/parseAddress.js";
export { parseAmount } from "./encoding/parseAmount.js";
export { parseSignatureHex } from "./encoding/parseSignatureHex.js";
export { parseTokenAmount, type ParseTokenAmountParameters } from "./encoding/parseTokenAmount.js";
export { formatTokenAmount, type FormatTokenAmountParameters } from "./encoding/formatTokenAmount.js";

// Vouchers
export { VOUCHER_DOMAIN_NAME, VOUCHER_DOMAIN_VERSION, voucherTypes } from "./voucher/voucherTypes.js";
export type { VoucherFields } from "./voucher/voucherDigestBytes.js";
export {
  getVoucherDomain,
  type GetVoucherDomainParameters,
  type GetVoucherDomainReturnType,
} from "./voucher/getVoucherDomain.js";
export {
  getVoucherDomainSeparator,
  type GetVoucherDomainSeparatorParameters,
} from "./voucher/getVoucherDomainSeparator.js";
export { getVoucherDigest, type GetVoucherDigestParameters } from "./voucher/getVoucherDigest.js";
export {
  getVoucherTypedData,
  type GetVoucherTypedDataParameters,
  type GetVoucherTypedDataReturnType,
} from "./voucher/getVoucherTypedData.js";
export { signVoucher, type SignVoucherParameters, type SignVoucherReturnType } from "./voucher/signVoucher.js";
export {
  recoverVoucherSigner,
  type RecoverVoucherSignerParameters,
  type RecoverVoucherSignerReturnType,
} from "./voucher/recoverVoucherSigner.js";
export { verifyVoucher, type VerifyVoucherParameters } from "./voucher/verifyVoucher.js";
export { getVoucherSigner, type GetVoucherSignerParameters } from "./voucher/getVoucherSigner.js";
export type { Secp256k1Backend } from "./crypto/Secp256k1Backend.js";
export { getSecp256k1Backend, type GetSecp256k1BackendReturnType } from "./crypto/getSecp256k1Backend.js";

// Payee and EIP-3009 authorizations
export {
  getPayeeAuthorizationTypedData,
  type GetPayeeAuthorizationTypedDataParameters,
  type GetPayeeAuthorizationTypedDataReturnType,
  type PayeeAuthorizationFields,
  type PayeeAuthorizationKind,
} from "./authorization/getPayeeAuthorizationTypedData.js";
export {
  signSettleAuthorization,
  type SignSettleAuthorizationParameters,
  type SignSettleAuthorizationReturnType,
} from "./authorization/signSettleAuthorization.js";
export {
  signCloseAuthorization,
  type SignCloseAuthorizationParameters,
  type SignCloseAuthorizationReturnType,
} from "./authorization/signCloseAuthorization.js";
export { computeOpenNonce, type ComputeOpenNonceParameters } from "./authorization/computeOpenNonce.js";
export { computeTopUpNonce, type ComputeTopUpNonceParameters } from "./authorization/computeTopUpNonce.js";
export type { TokenDomain } from "./authorization/TokenDomain.js";
export {
  getTokenDomain,
  type GetTokenDomainParameters,
  type GetTokenDomainReturnType,
} from "./authorization/getTokenDomain.js";
export type { ReceiveAuthorization } from "./authorization/ReceiveAuthorization.js";
export {
  receiveWithAuthorizationTypes,
  signReceiveWithAuthorization,
  type SignReceiveWithAuthorizationParameters,
  type SignReceiveWithAuthorizationReturnType,
} from "./authorization/signReceiveWithAuthorization.js";
export {
  signOpenAuthorization,
  type SignOpenAuthorizationParameters,
  type SignOpenAuthorizationReturnType,
} from "./authorization/signOpenAuthorization.js";
export {
  signTopUpAuthorization,
  type SignTopUpAuthorizationParameters,
  type SignTopUpAuthorizationReturnType,
} from "./authorization/signTopUpAuthorization.js";

// Channels
export type { Channel } from "./channel/Channel.js";
export { computeChannelId, type ComputeChannelIdParameters } from "./channel/computeChannelId.js";
export { getChannel, type GetChannelParameters, type GetChannelReturnType } from "./channel/getChannel.js";

// Escrow transactions
export type { TransactionOptions, TransactionResult } from "./transactions/TransactionOptions.js";
export {
  waitForTransactionOutcome,
  type WaitForTransactionOutcomeParameters,
  type WaitForTransactionOutcomeReturnType,
} from "./transactions/waitForTransactionOutcome.js";
export { openChannel, type OpenChannelParameters, type OpenChannelReturnType } from "./transactions/openChannel.js";
export { topUpChannel, type TopUpChannelParameters, type TopUpChannelReturnType } from "./transactions/topUpChannel.js";
export { settleChannel, type SettleChannelParameters, type SettleChannelReturnType } from "./transactions/settleChannel.js";
export {
  settleChannelBatch,
  type SettleChannelBatchParameters,
  type SettleChannelBatchReturnType,
  type VoucherClaim,
} from "./transactions/settleChannelBatch.js";
export { closeChannel, type CloseChannelParameters, type CloseChannelReturnType } from "./transactions/closeChannel.js";
export {
  requestChannelClose,
  type RequestChannelCloseParameters,
  type RequestChannelCloseReturnType,
} from "./transactions/requestChannelClose.js";
export {
  withdrawChannel,
  type WithdrawChannelParameters,
  type WithdrawChannelReturnType,
} from "./transactions/withdrawChannel.js";
export {
  openChannelWithAuthorization,
  type OpenChannelWithAuthorizationParameters,
  type OpenChannelWithAuthorizationReturnType,
} from "./transactions/openChannelWithAuthorization.js";
export {
  topUpChannelWithAuthorization,
  type TopUpChannelWithAuthorizationParameters,
  type TopUpChannelWithAuthorizationReturnType,
} from "./transactions/topUpChannelWithAuthorization.js";
export {
  settleChannelWithAuthorization,
  type SettleChannelWithAuthorizationParameters,
  type SettleChannelWithAuthorizationReturnType,
} from "./transactions/settleChannelWithAuthorization.js";
export {
  closeChannelWithAuthorization,
  type CloseChannelWithAuthorizationParameters,
  type CloseChannelWithAuthorizationReturnType,
} from "./transactions/closeChannelWithAuthorization.js";

// Deployments and chains
export type { DeployedContract, Deployment } from "./deployments/Deployment.js";
export { getDeployment, type GetDeploymentParameters, type GetDeploymentReturnType } from "./deployments/getDeployment.js";
export {
  assertEscrowDeployed,
  type AssertEscrowDeployedParameters,
  type AssertEscrowDeployedReturnType,
} from "./deployments/assertEscrowDeployed.js";
export { chainPresets, type ChainPreset } from "./deployments/chainPresets.js";
export {
  CREATE2_FACTORY,
  DEPLOYMENT_SALT,
  deployTollgate,
  predictDeploymentAddress,
  type ContractArtifact,
  type ContractDeployment,
  type DeployTollgateParameters,
  type DeploymentFile,
} from "./deployments/deployTollgate.js";

// Generated bindings
export { tollgateEscrowAbi } from "./generated/tollgateEscrowAbi.js";
export { mockStablecoinAbi } from "./generated/mockStablecoinAbi.js";
export { tollgateEscrowBytecode } from "./generated/tollgateEscrowBytecode.js";
export { mockStablecoinBytecode } from "./generated/mockStablecoinBytecode.js";
