import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseChannelJson, stringifyChannelJson } from "./channelJson.js";
import type { ClientChannel, ClientChannelStore } from "./ClientChannel.js";

export type CreateFileChannelStoreParameters = {
  /** JSON file holding the channels; created on first write. */
  path: string;
};

/**
 * Keeps channels in a JSON file (Node). Every write replaces the file atomically (write, then rename),
 * so a crash leaves the previous or the next state, never a torn file, and a restarted client resumes
 * its channels with the vouchers it signed and their session keys. The file is created readable by its
 * owner only (mode 0600; the directory 0700 when created here): a session key in it can sign vouchers up
 * to its channel's deposit.
 */
export function createFileChannelStore({ path }: CreateFileChannelStoreParameters): ClientChannelStore {
  let channels: Promise<Map<string, ClientChannel>> | undefined;
  let writing = Promise.resolve();

  const load = () =>
    (channels ??= readFile(path, "utf8").then(
      (text) => new Map(parseChannelJson<ClientChannel[]>(text).map((channel) => [channel.key, channel])),
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return new Map<string, ClientChannel>();
        throw error;
      },
    ));

  return {
    get: async (key) => (await load()).get(key),
    list: async () => [...(await load()).values()],
    async put(channel) {
      const all = await load();
      all.set(channel.key, channel);
      const text = stringifyChannelJson([...all.values()], 2);
      // Writes are queued so that two puts never interleave their rename.
      writing = writing.then(async () => {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const temporary = `${path}.${process.pid}.tmp`;
        // Removed first: `mode` applies only when the file is created (a crash may have left one behind).
        await rm(temporary, { force: true });
        await writeFile(temporary, text, { mode: 0o600 });
        await rename(temporary, path);
      });
      await writing;
    },
  };
}
