import { resolve } from "node:path";
import { type Address, bytesToHex, erc20Abi, type Hex, zeroAddress } from "viem";
import { chainPresets } from "../../deployments/chainPresets.js";
import { parseBytes32 } from "../../encoding/parseBytes32.js";
import { openChannel } from "../../transactions/openChannel.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  checkAmountSyntax,
  connectEscrow,
  type EscrowConnection,
  loadAccount,
  noPositionals,
  parseAddressFlag,
  parseAmountFlag,
  parseFlag,
  readToken,
  stringOption,
  TRANSACTION_OPTIONS,
  TRANSACTION_OPTIONS_HELP,
  transactionOptions,
  walletFor,
} from "../context.js";
import { usageError } from "../errors.js";
import { clientChannelSlot, parseSellerUrl } from "../clientChannelSlot.js";
import { fields, formatAmount } from "../output.js";

export const openCommand: Command = {
  name: "open",
  summary: "open a channel to a payee, escrowing a deposit (payer)",
  help: `Usage: tollgate open --payee <address> --amount <tokens> [--token <address>] [--salt <bytes32>]
                     [--authorized-signer <address>]

Opens a channel from the account of $TOLLGATE_PRIVATE_KEY (the payer) to --payee, escrowing --amount.
Approves exactly the deposit first when the escrow's allowance is short. Prints the channel id.

Options:
  --payee <address>              who the channel pays
  --amount <tokens>              deposit in whole tokens with the token's decimals, e.g. 5 or 1.50
  --token <address>              ERC-20 to escrow (default: USDC on Base and Base Sepolia, the mock USDC
                                 of the bundled local deployment on 31337)
  --salt <bytes32>               makes the channel id unique (default: random)
  --authorized-signer <address>  key that signs vouchers instead of the payer (default: the payer)
  --channel-store <file>         also record the channel in this paying-client channel file, so that
                                 createPayingFetch({ store: createFileChannelStore({ path: <file> }) })
                                 pays through it instead of opening another; needs --url
  --url <url>                    with --channel-store: the seller's paid URL (its origin is part of the
                                 client's channel key, and where a close is sent)

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: {
    ...CHAIN_OPTIONS,
    ...TRANSACTION_OPTIONS,
    payee: { type: "string" },
    amount: { type: "string" },
    token: { type: "string" },
    salt: { type: "string" },
    "authorized-signer": { type: "string" },
    "channel-store": { type: "string" },
    url: { type: "string" },
  },
  async run(context) {
    noPositionals(context);
    const payeeFlag = stringOption(context, "payee");
    const amountFlag = stringOption(context, "amount");
    if (payeeFlag === undefined) throw usageError("missing --payee <address>");
    if (amountFlag === undefined) throw usageError("missing --amount <tokens>");
    const payee = parseAddressFlag("--payee", payeeFlag);
    checkAmountSyntax("--amount", amountFlag);
    const tokenFlag = stringOption(context, "token");
    const flaggedToken = tokenFlag === undefined ? undefined : parseAddressFlag("--token", tokenFlag);
    const saltFlag = stringOption(context, "salt");
    const salt: Hex = saltFlag === undefined ? bytesToHex(crypto.getRandomValues(new Uint8Array(32))) : parseFlag("--salt", saltFlag, parseBytes32);
    const signerFlag = stringOption(context, "authorized-signer");
    const authorizedSigner = signerFlag === undefined ? zeroAddress : parseAddressFlag("--authorized-signer", signerFlag);
    const channelStore = stringOption(context, "channel-store");
    const urlFlag = stringOption(context, "url");
    if ((channelStore === undefined) !== (urlFlag === undefined)) throw usageError("--channel-store and --url go together");
    const sellerUrl = urlFlag === undefined ? undefined : parseSellerUrl(urlFlag);
    // The paying client signs vouchers with the payer's own key.
    if (channelStore !== undefined && authorizedSigner !== zeroAddress) throw usageError("--channel-store: a paying client signs as the payer; drop --authorized-signer");
    const options = transactionOptions(context);
    const account = loadAccount(context);

    const connection = await connectEscrow(context);
    const token = await readToken(connection, flaggedToken ?? defaultToken(connection));
    const deposit = parseAmountFlag("--amount", amountFlag, token);
    const balance = await connection.publicClient.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [account.address] });
    if (balance < deposit) {
      throw usageError(`--amount ${amountFlag} is more than the payer's balance of ${formatAmount(balance, token)}`, { balance, deposit });
    }
    const slot =
      channelStore === undefined
        ? undefined
        : await clientChannelSlot({
            path: resolve(context.io.cwd, channelStore),
            url: sellerUrl!,
            chainId: connection.chainId,
            escrow: connection.escrow,
            payer: account.address,
            payee,
            token: token.address,
          });
    context.log(`opening a channel to ${payee} with ${formatAmount(deposit, token)} (approving first if needed)…`);
    const result = await openChannel({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      escrow: connection.escrow,
      payee,
      token: token.address,
      deposit,
      salt,
      authorizedSigner,
      ...options,
    });
    await slot?.record({ channelId: result.channelId, salt, deposit });
    const json = {
      chainId: connection.chainId,
      escrow: connection.escrow,
      channelId: result.channelId,
      payer: account.address,
      payee,
      token,
      deposit,
      salt,
      authorizedSigner: authorizedSigner === zeroAddress ? null : authorizedSigner,
      transactionHash: result.hash,
      blockNumber: result.receipt.blockNumber,
      approvalTransactionHash: result.approval?.hash ?? null,
      channelStore: channelStore === undefined ? null : resolve(context.io.cwd, channelStore),
    };
    return {
      json,
      human: fields([
        ["channel", result.channelId],
        ["payer", account.address],
        ["payee", payee],
        ["deposit", formatAmount(deposit, token)],
        ["salt", salt],
        ["transaction", `${result.hash} (block ${result.receipt.blockNumber})`],
        ["approval", result.approval?.hash ?? "not needed"],
        ...(json.channelStore === null ? [] : [["client channel store", json.channelStore] as [string, string]]),
      ]),
    };
  },
};

function defaultToken(connection: EscrowConnection): Address {
  const preset = Object.values(chainPresets).find((candidate) => candidate.chain.id === connection.chainId);
  const token = preset?.usdc ?? connection.deployment?.contracts.MockStablecoin?.address;
  if (token === undefined) throw usageError(`no default token on chain ${connection.chainId}: pass --token <address>`);
  return token;
}
