import { type Account, type Address, type Chain, createWalletClient, custom, type LocalAccount, type Transport, type WalletClient } from "viem";
import { toAccount } from "viem/accounts";
import { ConfigurationError } from "../errors/ConfigurationError.js";

/** The payer as the paying client uses it, whatever kind of wallet it is. */
export type PayingWallet = {
  /** The channel's payer: an EOA, or a contract wallet whose signatures are checked through ERC-1271. */
  address: Address;
  /** Signs the payer's typed data (funding authorizations; vouchers without session keys) through the wallet. */
  signer: LocalAccount;
  /** Sends the payer's transactions (approve, open, top-up, forced close) through the wallet. */
  client: WalletClient<Transport, Chain, Account>;
};

export type ToPayingWalletParameters = {
  /** A viem account (local or JSON-RPC) or a wallet client carrying one (e.g. a browser wallet's). */
  account: Account | WalletClient;
  chain: Chain;
  /** Carries a bare account's requests; a wallet client keeps its own transport. */
  transport: Transport;
  /** Milliseconds between receipt polls of what the wallet sends; defaults to viem's for `chain`. */
  pollingInterval?: number | undefined;
};

/**
 * Adapts any viem account to what the client needs. A local account signs in process; a JSON-RPC account
 * (an EIP-1193 provider, a node's unlocked account) is asked for `eth_signTypedData_v4` and
 * `eth_sendTransaction`, so a contract wallet behind such a provider pays as its own address.
 */
export function toPayingWallet({ account: source, chain, transport, pollingInterval }: ToPayingWalletParameters): PayingWallet {
  const walletClient = source.type === "walletClient" ? (source as WalletClient) : undefined;
  const account = walletClient ? walletClient.account : (source as Account);
  if (account === undefined) throw new ConfigurationError("account", "The wallet client has no account: connect one (e.g. `eth_requestAccounts`) and pass the client with it");
  if (account.type === "smart") {
    throw new ConfigurationError("account", "ERC-4337 smart accounts need a bundler to send the funding: pass the smart wallet's EIP-1193 provider as a JSON-RPC account instead");
  }
  // The wallet client's own request function, so that its provider (and its chain checks) stay in the path.
  const client = createWalletClient({ account, chain, transport: walletClient ? custom({ request: walletClient.request }) : transport, pollingInterval });
  const signer =
    account.type === "local"
      ? account
      : toAccount({
          address: account.address,
          signMessage: ({ message }) => client.signMessage({ account, message }),
          signTypedData: (typedData) => client.signTypedData({ account, ...(typedData as Parameters<typeof client.signTypedData>[0]) }),
          signTransaction: () => {
            throw new ConfigurationError("account", "A JSON-RPC account sends its own transactions (eth_sendTransaction); it does not sign them for the client");
          },
        });
  return { address: account.address, signer, client };
}
