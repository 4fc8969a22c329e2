import type { CommandContext, OptionSpecs } from "./context.js";

/** What a command produced: the --json document, and the text a human sees otherwise. */
export type CommandResult = {
  json: unknown;
  human: string;
  /** Exit status when it is not 0 on success (the demo passes its own through). */
  exitCode?: number;
};

export type Command = {
  name: string;
  /** One line for `tollgate --help`. */
  summary: string;
  /** `tollgate <name> --help`. */
  help: string;
  options: OptionSpecs;
  run(context: CommandContext): Promise<CommandResult>;
};
